<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>FileBrowser</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="311" />
        <source>%n file(s)</source>
        <translation>
            <numerusform>%n file</numerusform>
            <numerusform>%n files</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="330" />
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
        <location filename="../../desktop_app/controllers/library_controller.py" line="218" />
        <source>Moved %n file(s) to the trash</source>
        <translation>
            <numerusform>Moved %n file to the trash</numerusform>
            <numerusform>Moved %n files to the trash</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="223" />
        <source>Restored %n file(s)</source>
        <translation>
            <numerusform>Restored %n file</numerusform>
            <numerusform>Restored %n files</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="230" />
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
        <location filename="../../desktop_app/views/main_window.py" line="368" />
        <source>Drop to add %n item(s) to the library</source>
        <translation>
            <numerusform>Drop to add %n item to the library</numerusform>
            <numerusform>Drop to add %n items to the library</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="499" />
        <source>Delete %n file(s) permanently? This cannot be undone.</source>
        <translation>
            <numerusform>Delete %n file permanently? This cannot be undone.</numerusform>
            <numerusform>Delete %n files permanently? This cannot be undone.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>UploadDock</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/upload_dock.py" line="299" />
        <source>Total %1 % · %n failed</source>
        <translation>
            <numerusform>Total %1 % · %n failed</numerusform>
            <numerusform>Total %1 % · %n failed</numerusform>
        </translation>
    </message>
</context>
</TS>
