<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>FileBrowser</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="213"/>
        <source>%n file(s)</source>
        <translation>
            <numerusform>%n file</numerusform>
            <numerusform>%n files</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="232"/>
        <source>Files you move to the trash stay here for %n day(s) before they are deleted for good.</source>
        <translation>
            <numerusform>Files you move to the trash stay here for %n day before they are deleted for good.</numerusform>
            <numerusform>Files you move to the trash stay here for %n days before they are deleted for good.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>LibraryController</name>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="171"/>
        <source>Moved %n file(s) to the trash</source>
        <translation>
            <numerusform>Moved %n file to the trash</numerusform>
            <numerusform>Moved %n files to the trash</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="176"/>
        <source>Restored %n file(s)</source>
        <translation>
            <numerusform>Restored %n file</numerusform>
            <numerusform>Restored %n files</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="183"/>
        <source>Deleted %n file(s) permanently</source>
        <translation>
            <numerusform>Deleted %n file permanently</numerusform>
            <numerusform>Deleted %n files permanently</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="428"/>
        <source>Delete %n file(s) permanently? This cannot be undone.</source>
        <translation>
            <numerusform>Delete %n file permanently? This cannot be undone.</numerusform>
            <numerusform>Delete %n files permanently? This cannot be undone.</numerusform>
        </translation>
    </message>
</context>
</TS>
