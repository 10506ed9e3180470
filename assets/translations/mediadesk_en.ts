<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>Confirm</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/confirm.py" line="35"/>
        <source>…and %n more</source>
        <translation>
            <numerusform>…and %n more</numerusform>
            <numerusform>…and %n more</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>DetailsPanel</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/details_panel.py" line="353"/>
        <source>%n files selected</source>
        <translation>
            <numerusform>%n file selected</numerusform>
            <numerusform>%n files selected</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>FileBrowser</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="766"/>
        <source>%Ln file(s)</source>
        <translation>
            <numerusform>%Ln file</numerusform>
            <numerusform>%Ln files</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="848"/>
        <source>All %n photo(s) of the library are in the trash.

Show the trash to restore them, or drop new photos anywhere on this window.</source>
        <translation>
            <numerusform>The library’s only photo is in the trash.

Show the trash to restore it, or drop new photos anywhere on this window.</numerusform>
            <numerusform>All %n photos of the library are in the trash.

Show the trash to restore them, or drop new photos anywhere on this window.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="855"/>
        <source>All %n video(s) of the library are in the trash.

Show the trash to restore them, or drop new videos anywhere on this window.</source>
        <translation>
            <numerusform>The library’s only video is in the trash.

Show the trash to restore it, or drop new videos anywhere on this window.</numerusform>
            <numerusform>All %n videos of the library are in the trash.

Show the trash to restore them, or drop new videos anywhere on this window.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="862"/>
        <source>All %n file(s) of %1 are in the trash.

Show the trash to restore them, or drop new files anywhere on this window while %1 is selected.</source>
        <translation>
            <numerusform>The only file of %1 is in the trash.

Show the trash to restore it, or drop new files anywhere on this window while %1 is selected.</numerusform>
            <numerusform>All %n files of %1 are in the trash.

Show the trash to restore them, or drop new files anywhere on this window while %1 is selected.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="870"/>
        <source>All %n file(s) of the library are in the trash.

Show the trash to restore them, or drop new photos and videos anywhere on this window.</source>
        <translation>
            <numerusform>The library’s only file is in the trash.

Show the trash to restore it, or drop new photos and videos anywhere on this window.</numerusform>
            <numerusform>All %n files of the library are in the trash.

Show the trash to restore them, or drop new photos and videos anywhere on this window.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="880"/>
        <source>Files you move to the trash stay here for %n day(s) before they are deleted for good.</source>
        <translation>
            <numerusform>Files you move to the trash stay here for %n day before they are deleted for good.</numerusform>
            <numerusform>Files you move to the trash stay here for %n days before they are deleted for good.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>JobsDock</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/jobs_dock.py" line="438"/>
        <source>Queued %n job(s) again</source>
        <translation>
            <numerusform>Queued %n job again</numerusform>
            <numerusform>Queued %n jobs again</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>LibraryController</name>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="312"/>
        <source>Moved %n file(s) to the trash</source>
        <translation>
            <numerusform>Moved %n file to the trash</numerusform>
            <numerusform>Moved %n files to the trash</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="314"/>
        <source>Moving to the trash: %1 of %Ln file(s)…</source>
        <translation>
            <numerusform>Moving to the trash: %1 of %Ln file…</numerusform>
            <numerusform>Moving to the trash: %1 of %Ln files…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="323"/>
        <source>Restored %n file(s)</source>
        <translation>
            <numerusform>Restored %n file</numerusform>
            <numerusform>Restored %n files</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="324"/>
        <source>Restoring: %1 of %Ln file(s)…</source>
        <translation>
            <numerusform>Restoring: %1 of %Ln file…</numerusform>
            <numerusform>Restoring: %1 of %Ln files…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="360"/>
        <source>Deleted %n file(s) permanently</source>
        <translation>
            <numerusform>Deleted %n file permanently</numerusform>
            <numerusform>Deleted %n files permanently</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="369"/>
        <source>Emptying the trash: %1 of %Ln file(s) deleted…</source>
        <translation>
            <numerusform>Emptying the trash: %1 of %Ln file deleted…</numerusform>
            <numerusform>Emptying the trash: %1 of %Ln files deleted…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="376"/>
        <source>Emptied the trash: %n file(s) deleted</source>
        <translation>
            <numerusform>Emptied the trash: %n file deleted</numerusform>
            <numerusform>Emptied the trash: %n files deleted</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MainStatusBar</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/status_bar.py" line="163"/>
        <source>%Ln file(s)</source>
        <translation>
            <numerusform>%Ln file</numerusform>
            <numerusform>%Ln files</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/status_bar.py" line="164"/>
        <source>%Ln image(s)</source>
        <translation>
            <numerusform>%Ln image</numerusform>
            <numerusform>%Ln images</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/status_bar.py" line="165"/>
        <source>%Ln video(s)</source>
        <translation>
            <numerusform>%Ln video</numerusform>
            <numerusform>%Ln videos</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="822"/>
        <source>%n file(s)</source>
        <translation>
            <numerusform>%n file</numerusform>
            <numerusform>%n files</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="823"/>
        <source>%n folder(s)</source>
        <translation>
            <numerusform>%n folder</numerusform>
            <numerusform>%n folders</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="826"/>
        <source>Drop to add %n folder(s) to the library</source>
        <translation>
            <numerusform>Drop to add %n folder to the library</numerusform>
            <numerusform>Drop to add %n folders to the library</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="827"/>
        <source>Drop to add %n file(s) to the library</source>
        <translation>
            <numerusform>Drop to add %n file to the library</numerusform>
            <numerusform>Drop to add %n files to the library</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1040"/>
        <source>Move %n selected files to the trash?</source>
        <translation>
            <numerusform>Move %n selected file to the trash?</numerusform>
            <numerusform>Move %n selected files to the trash?</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1045"/>
        <source>%n of them are not on screen:</source>
        <translation>
            <numerusform>%n of them is not on screen:</numerusform>
            <numerusform>%n of them are not on screen:</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1069"/>
        <source>Delete %n file(s) permanently?</source>
        <translation>
            <numerusform>Delete %n file permanently?</numerusform>
            <numerusform>Delete %n files permanently?</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1089"/>
        <source>Permanently delete %n file(s) in the trash?</source>
        <translation>
            <numerusform>Permanently delete %n file in the trash?</numerusform>
            <numerusform>Permanently delete %n files in the trash?</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1311"/>
        <source>%n file(s) left to upload.</source>
        <translation>
            <numerusform>%n file left to upload.</numerusform>
            <numerusform>%n files left to upload.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MigrationProgress</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="129"/>
        <source>All files are in the new storage (%n moved).</source>
        <translation>
            <numerusform>All files are in the new storage (%n moved).</numerusform>
            <numerusform>All files are in the new storage (%n moved).</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="134"/>
        <source>%n file(s) could not be moved; they stay readable where they are. Run the move again to retry.</source>
        <translation>
            <numerusform>%n file could not be moved; it stays readable where it is. Run the move again to retry.</numerusform>
            <numerusform>%n files could not be moved; they stay readable where they are. Run the move again to retry.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ServerPanel</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/server_panel.py" line="291"/>
        <source>Copied %n command(s) with the token “%1” in them. Anyone who sees them can use it.</source>
        <translation>
            <numerusform>Copied %n command with the token “%1” in it. Anyone who sees it can use it.</numerusform>
            <numerusform>Copied %n commands with the token “%1” in them. Anyone who sees them can use it.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/server_panel.py" line="298"/>
        <source>Copied %n command(s) without a token: set TOKEN=… in your shell first.</source>
        <translation>
            <numerusform>Copied %n command without a token: set TOKEN=… in your shell first.</numerusform>
            <numerusform>Copied %n commands without a token: set TOKEN=… in your shell first.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>StorageSwitchDialog</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="41"/>
        <source>%n file(s) are stored on %1. New files will be stored on %2. What should happen to the files already there?</source>
        <translation>
            <numerusform>%n file is stored on %1. New files will be stored on %2. What should happen to the file already there?</numerusform>
            <numerusform>%n files are stored on %1. New files will be stored on %2. What should happen to the files already there?</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>StorageView</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_view.py" line="133"/>
        <source>%Ln file(s) in the library</source>
        <translation>
            <numerusform>%Ln file in the library</numerusform>
            <numerusform>%Ln files in the library</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>UploadDock</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/upload_dock.py" line="383"/>
        <source>Total %1 % · %n failed</source>
        <translation>
            <numerusform>Total %1 % · %n failed</numerusform>
            <numerusform>Total %1 % · %n failed</numerusform>
        </translation>
    </message>
</context>
</TS>
