<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>Confirm</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/confirm.py" line="35"/>
        <source>…and %Ln more</source>
        <translation>
            <numerusform>…and %Ln more</numerusform>
            <numerusform>…and %Ln more</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>DetailsPanel</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/details_panel.py" line="505"/>
        <source>%Ln files selected</source>
        <translation>
            <numerusform>%Ln file selected</numerusform>
            <numerusform>%Ln files selected</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>FileBrowser</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="1101"/>
        <source>%Ln file(s)</source>
        <translation>
            <numerusform>%Ln file</numerusform>
            <numerusform>%Ln files</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="1228"/>
        <source>All %Ln photo(s) of the library are in the trash.

Show the trash to restore them, or drop new photos anywhere on this window.</source>
        <translation>
            <numerusform>The library’s only photo is in the trash.

Show the trash to restore it, or drop new photos anywhere on this window.</numerusform>
            <numerusform>All %Ln photos of the library are in the trash.

Show the trash to restore them, or drop new photos anywhere on this window.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="1235"/>
        <source>All %Ln video(s) of the library are in the trash.

Show the trash to restore them, or drop new videos anywhere on this window.</source>
        <translation>
            <numerusform>The library’s only video is in the trash.

Show the trash to restore it, or drop new videos anywhere on this window.</numerusform>
            <numerusform>All %Ln videos of the library are in the trash.

Show the trash to restore them, or drop new videos anywhere on this window.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="1242"/>
        <source>All %Ln file(s) of %1 are in the trash.

Show the trash to restore them, or drop new files anywhere on this window while %1 is selected.</source>
        <translation>
            <numerusform>The only file of %1 is in the trash.

Show the trash to restore it, or drop new files anywhere on this window while %1 is selected.</numerusform>
            <numerusform>All %Ln files of %1 are in the trash.

Show the trash to restore them, or drop new files anywhere on this window while %1 is selected.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="1250"/>
        <source>All %Ln file(s) of the library are in the trash.

Show the trash to restore them, or drop new photos and videos anywhere on this window.</source>
        <translation>
            <numerusform>The library’s only file is in the trash.

Show the trash to restore it, or drop new photos and videos anywhere on this window.</numerusform>
            <numerusform>All %Ln files of the library are in the trash.

Show the trash to restore them, or drop new photos and videos anywhere on this window.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="1260"/>
        <source>Files you move to the trash stay here for %Ln day(s) before they are deleted for good.</source>
        <translation>
            <numerusform>Files you move to the trash stay here for %Ln day before they are deleted for good.</numerusform>
            <numerusform>Files you move to the trash stay here for %Ln days before they are deleted for good.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>JobsDock</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/jobs_dock.py" line="532"/>
        <source>Queued %Ln job(s) again</source>
        <translation>
            <numerusform>Queued %Ln job again</numerusform>
            <numerusform>Queued %Ln jobs again</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>LibraryController</name>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="629"/>
        <source>Moved %Ln file(s) to the trash</source>
        <translation>
            <numerusform>Moved %Ln file to the trash</numerusform>
            <numerusform>Moved %Ln files to the trash</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="631"/>
        <source>Moving to the trash: %1 of %Ln file(s)…</source>
        <translation>
            <numerusform>Moving to the trash: %1 of %Ln file…</numerusform>
            <numerusform>Moving to the trash: %1 of %Ln files…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="670"/>
        <source>%Ln of them became the copies of the same photos or videos uploaded again meanwhile: their own edits gave way to those copies&apos;.</source>
        <translation>
            <numerusform>%Ln of them became the copy of the same photo or video uploaded again meanwhile: its own edits gave way to that copy&apos;s.</numerusform>
            <numerusform>%Ln of them became the copies of the same photos or videos uploaded again meanwhile: their own edits gave way to those copies&apos;.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="681"/>
        <source>Restored %Ln file(s)</source>
        <translation>
            <numerusform>Restored %Ln file</numerusform>
            <numerusform>Restored %Ln files</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="682"/>
        <source>Restoring: %1 of %Ln file(s)…</source>
        <translation>
            <numerusform>Restoring: %1 of %Ln file…</numerusform>
            <numerusform>Restoring: %1 of %Ln files…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="687"/>
        <source>Nothing to restore: the file was already restored</source>
        <translation>
            <numerusform>Nothing to restore: the file was already restored</numerusform>
            <numerusform>Nothing to restore: the %Ln files were already restored</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="688"/>
        <source>(%Ln already restored elsewhere)</source>
        <translation>
            <numerusform>(%Ln already restored elsewhere)</numerusform>
            <numerusform>(%Ln already restored elsewhere)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="807"/>
        <source>Nothing deleted: the file was restored meanwhile and is kept</source>
        <translation>
            <numerusform>Nothing deleted: the file was restored meanwhile and is kept</numerusform>
            <numerusform>Nothing deleted: the %Ln files were restored meanwhile and are kept</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="801"/>
        <location filename="../../desktop_app/controllers/library_controller.py" line="812"/>
        <location filename="../../desktop_app/controllers/library_controller.py" line="817"/>
        <source>Deleted %Ln file(s) permanently</source>
        <translation>
            <numerusform>Deleted %Ln file permanently</numerusform>
            <numerusform>Deleted %Ln files permanently</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="634"/>
        <source>Moving %Ln file(s) to the trash…</source>
        <translation>
            <numerusform>Moving %Ln file to the trash…</numerusform>
            <numerusform>Moving %Ln files to the trash…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="690"/>
        <source>Restoring %Ln file(s)…</source>
        <translation>
            <numerusform>Restoring %Ln file…</numerusform>
            <numerusform>Restoring %Ln files…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="794"/>
        <source>%Ln file(s) went to the trash instead: the storage may still delete them; if it did not, they stay in the trash, where they can be restored.</source>
        <translation>
            <numerusform>The file went to the trash instead: the storage may still delete it; if it did not, it stays in the trash, where it can be restored.</numerusform>
            <numerusform>%Ln files went to the trash instead: the storage may still delete them; if it did not, they stay in the trash, where they can be restored.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="814"/>
        <source>(%Ln restored meanwhile elsewhere, kept)</source>
        <translation>
            <numerusform>(%Ln restored meanwhile elsewhere, kept)</numerusform>
            <numerusform>(%Ln restored meanwhile elsewhere, kept)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="832"/>
        <source>Emptying the trash: %1 of %Ln file(s) deleted…</source>
        <translation>
            <numerusform>Emptying the trash: %1 of %Ln file deleted…</numerusform>
            <numerusform>Emptying the trash: %1 of %Ln files deleted…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="839"/>
        <source>Emptied the trash: %Ln file(s) deleted</source>
        <translation>
            <numerusform>Emptied the trash: %Ln file deleted</numerusform>
            <numerusform>Emptied the trash: %Ln files deleted</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="842"/>
        <source>(%Ln restored or deleted elsewhere meanwhile)</source>
        <translation>
            <numerusform>(%Ln restored or deleted elsewhere meanwhile)</numerusform>
            <numerusform>(%Ln restored or deleted elsewhere meanwhile)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="871"/>
        <source>Exporting: %1 of %Ln file(s)…</source>
        <translation>
            <numerusform>Exporting: %1 of %Ln file…</numerusform>
            <numerusform>Exporting: %1 of %Ln files…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="878"/>
        <source>Exported %Ln file(s) to %1</source>
        <translation>
            <numerusform>Exported %Ln file to %1</numerusform>
            <numerusform>Exported %Ln files to %1</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="900"/>
        <source>%Ln of %1 file(s) could not be exported to %2:</source>
        <translation>
            <numerusform>%Ln of %1 files could not be exported to %2:</numerusform>
            <numerusform>%Ln of %1 files could not be exported to %2:</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="907"/>
        <source>…and %Ln more</source>
        <translation>
            <numerusform>…and %Ln more</numerusform>
            <numerusform>…and %Ln more</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="908"/>
        <source>%Ln file(s) exported.</source>
        <translation>
            <numerusform>%Ln file exported.</numerusform>
            <numerusform>%Ln files exported.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="999"/>
        <source>Processing again: %1 of %Ln file(s)…</source>
        <translation>
            <numerusform>Processing again: %1 of %Ln file…</numerusform>
            <numerusform>Processing again: %1 of %Ln files…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="1016"/>
        <source>Made the thumbnails of %Ln photo(s) again</source>
        <translation>
            <numerusform>Made the thumbnail of %Ln photo again</numerusform>
            <numerusform>Made the thumbnails of %Ln photos again</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="1021"/>
        <source>Queued %Ln job(s) of %1 again</source>
        <translation>
            <numerusform>Queued %Ln job of %1 again</numerusform>
            <numerusform>Queued %Ln jobs of %1 again</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="1027"/>
        <source>Queued the jobs of %Ln video(s) again</source>
        <translation>
            <numerusform>Queued the jobs of %Ln video again</numerusform>
            <numerusform>Queued the jobs of %Ln videos again</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="1039"/>
        <source>The thumbnails of %Ln photo(s) could not be made again: their originals cannot be decoded, and they keep the ones they had</source>
        <translation>
            <numerusform>The thumbnail of %Ln photo could not be made again: its original cannot be decoded, and it keeps the one it had</numerusform>
            <numerusform>The thumbnails of %Ln photos could not be made again: their originals cannot be decoded, and they keep the ones they had</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="1048"/>
        <source>%Ln file(s) passed over: trashed or deleted meanwhile</source>
        <translation>
            <numerusform>%Ln file passed over: trashed or deleted meanwhile</numerusform>
            <numerusform>%Ln files passed over: trashed or deleted meanwhile</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MainStatusBar</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/status_bar.py" line="255"/>
        <source>%Ln file(s)</source>
        <translation>
            <numerusform>%Ln file</numerusform>
            <numerusform>%Ln files</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/status_bar.py" line="260"/>
        <source>%Ln image(s)</source>
        <translation>
            <numerusform>%Ln image</numerusform>
            <numerusform>%Ln images</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/status_bar.py" line="261"/>
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
        <location filename="../../desktop_app/views/main_window.py" line="1104"/>
        <source>%Ln file(s)</source>
        <translation>
            <numerusform>%Ln file</numerusform>
            <numerusform>%Ln files</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1105"/>
        <source>%Ln folder(s)</source>
        <translation>
            <numerusform>%Ln folder</numerusform>
            <numerusform>%Ln folders</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1108"/>
        <source>Drop to add %Ln folder(s) to the library</source>
        <translation>
            <numerusform>Drop to add %Ln folder to the library</numerusform>
            <numerusform>Drop to add %Ln folders to the library</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1109"/>
        <source>Drop to add %Ln file(s) to the library</source>
        <translation>
            <numerusform>Drop to add %Ln file to the library</numerusform>
            <numerusform>Drop to add %Ln files to the library</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1225"/>
        <source>%Ln file(s) still on %1, new files going to %2: Settings ▸ Save moves them (or: mediadesk storage migrate --to %3)</source>
        <translation>
            <numerusform>%Ln file still on %1, new files going to %2: Settings ▸ Save moves it (or: mediadesk storage migrate --to %3)</numerusform>
            <numerusform>%Ln files still on %1, new files going to %2: Settings ▸ Save moves them (or: mediadesk storage migrate --to %3)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1446"/>
        <source>Export %Ln files to a folder</source>
        <translation>
            <numerusform>Export %Ln file to a folder</numerusform>
            <numerusform>Export %Ln files to a folder</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1501"/>
        <source>Move %Ln selected files to the trash?</source>
        <translation>
            <numerusform>Move %Ln selected file to the trash?</numerusform>
            <numerusform>Move %Ln selected files to the trash?</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1506"/>
        <source>%Ln of them are not on screen:</source>
        <translation>
            <numerusform>%Ln of them is not on screen:</numerusform>
            <numerusform>%Ln of them are not on screen:</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1530"/>
        <source>Delete %Ln file(s) permanently?</source>
        <translation>
            <numerusform>Delete %Ln file permanently?</numerusform>
            <numerusform>Delete %Ln files permanently?</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1550"/>
        <source>Permanently delete %Ln file(s) in the trash?</source>
        <translation>
            <numerusform>Permanently delete %Ln file in the trash?</numerusform>
            <numerusform>Permanently delete %Ln files in the trash?</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1876"/>
        <source>%Ln file(s) left to upload.</source>
        <translation>
            <numerusform>%Ln file left to upload.</numerusform>
            <numerusform>%Ln files left to upload.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MigrationProgress</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="186"/>
        <source>%1 of %Ln file(s) done (%2 not moved)</source>
        <translation>
            <numerusform>%1 of %Ln file done (%2 not moved)</numerusform>
            <numerusform>%1 of %Ln files done (%2 not moved)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="190"/>
        <source>Moved %1 of %Ln file(s)</source>
        <translation>
            <numerusform>Moved %1 of %Ln file</numerusform>
            <numerusform>Moved %1 of %Ln files</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="201"/>
        <source>Removing the old copies… %Ln copies left; all removed in %1 s</source>
        <translation>
            <numerusform>Removing the old copies… %Ln copy left; removed in %1 s</numerusform>
            <numerusform>Removing the old copies… %Ln copies left; all removed in %1 s</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="225"/>
        <source>All files are in the new storage (%Ln moved).</source>
        <translation>
            <numerusform>All files are in the new storage (%Ln moved).</numerusform>
            <numerusform>All files are in the new storage (%Ln moved).</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MoveReport</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="301"/>
        <source>The move was stopped after %Ln file(s) had been moved to %1.</source>
        <translation>
            <numerusform>The move was stopped after %Ln file had been moved to %1.</numerusform>
            <numerusform>The move was stopped after %Ln files had been moved to %1.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="316"/>
        <source>%Ln file(s) were not moved: they stay readable where they are. Run the move again to continue with them.</source>
        <translation>
            <numerusform>%Ln file was not moved: it stays readable where it is. Run the move again to continue with it.</numerusform>
            <numerusform>%Ln files were not moved: they stay readable where they are. Run the move again to continue with them.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="324"/>
        <source>%Ln file(s) were moved to %1.</source>
        <translation>
            <numerusform>%Ln file was moved to %1.</numerusform>
            <numerusform>%Ln files were moved to %1.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="329"/>
        <source>%Ln file(s) could not be moved; they stay readable where they are.</source>
        <translation>
            <numerusform>%Ln file could not be moved; it stays readable where it is.</numerusform>
            <numerusform>%Ln files could not be moved; they stay readable where they are.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="337"/>
        <source>%Ln file(s) changed during the move (renamed or deleted) and were left for the next move.</source>
        <translation>
            <numerusform>%Ln file changed during the move (renamed or deleted) and was left for the next move.</numerusform>
            <numerusform>%Ln files changed during the move (renamed or deleted) and were left for the next move.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="351"/>
        <source>Run the move again to retry them.</source>
        <translation>
            <numerusform>Run the move again to retry it.</numerusform>
            <numerusform>Run the move again to retry them.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="361"/>
        <source>%1 and %Ln more</source>
        <translation>
            <numerusform>%1 and %Ln more</numerusform>
            <numerusform>%1 and %Ln more</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="362"/>
        <source>%Ln file(s): %1</source>
        <translation>
            <numerusform>%Ln file: %1</numerusform>
            <numerusform>%Ln files: %1</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ServerPanel</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/server_panel.py" line="432"/>
        <source>Copied %Ln command(s) with the token “%1” in them. Anyone who sees them can use it.</source>
        <translation>
            <numerusform>Copied %Ln command with the token “%1” in it. Anyone who sees it can use it.</numerusform>
            <numerusform>Copied %Ln commands with the token “%1” in them. Anyone who sees them can use it.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/server_panel.py" line="444"/>
        <source>Copied %Ln command(s) without a token: set TOKEN=… and UPLOAD_TOKEN=… first.</source>
        <translation>
            <numerusform>Copied %Ln command without a token: set TOKEN=… and UPLOAD_TOKEN=… first.</numerusform>
            <numerusform>Copied %Ln commands without a token: set TOKEN=… and UPLOAD_TOKEN=… first.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>SidebarModel</name>
    <message numerus="yes">
        <location filename="../../desktop_app/models/sidebar_model.py" line="95"/>
        <source>%Ln file(s)</source>
        <translation>
            <numerusform>%Ln file</numerusform>
            <numerusform>%Ln files</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>StorageSwitchDialog</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="62"/>
        <source>%Ln file(s) are still on %1, not on %2 where new files are stored. Move them now?</source>
        <translation>
            <numerusform>%Ln file is still on %1, not on %2 where new files are stored. Move it now?</numerusform>
            <numerusform>%Ln files are still on %1, not on %2 where new files are stored. Move them now?</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="71"/>
        <source>%Ln file(s) are stored on %1. New files will be stored on %2. What should happen to the files already there?</source>
        <translation>
            <numerusform>%Ln file is stored on %1. New files will be stored on %2. What should happen to the file already there?</numerusform>
            <numerusform>%Ln files are stored on %1. New files will be stored on %2. What should happen to the files already there?</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>StorageView</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_view.py" line="175"/>
        <source>%Ln file(s) in the library</source>
        <translation>
            <numerusform>%Ln file in the library</numerusform>
            <numerusform>%Ln files in the library</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>TeamMode</name>
    <message numerus="yes">
        <location filename="../../desktop_app/team.py" line="282"/>
        <source>%Ln file(s) were moved to the trash on %2: %1</source>
        <translation>
            <numerusform>%Ln file was moved to the trash on %2: %1</numerusform>
            <numerusform>%Ln files were moved to the trash on %2: %1</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/team.py" line="284"/>
        <source>%Ln file(s) were deleted permanently on %2: %1</source>
        <translation>
            <numerusform>%Ln file was deleted permanently on %2: %1</numerusform>
            <numerusform>%Ln files were deleted permanently on %2: %1</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>UploadController</name>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/upload_controller.py" line="517"/>
        <source>%Ln files are already in the upload queue: not added again.</source>
        <translation>
            <numerusform>%Ln file is already in the upload queue: not added again.</numerusform>
            <numerusform>%Ln files are already in the upload queue: not added again.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>UploadDock</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/upload_dock.py" line="590"/>
        <source>%Ln upload(s) failed</source>
        <translation>
            <numerusform>%Ln upload failed</numerusform>
            <numerusform>%Ln uploads failed</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/upload_dock.py" line="626"/>
        <source>%Ln file(s) uploaded</source>
        <translation>
            <numerusform>%Ln file uploaded</numerusform>
            <numerusform>%Ln files uploaded</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/upload_dock.py" line="743"/>
        <source>Total %1 % · %Ln failed</source>
        <translation>
            <numerusform>Total %1 % · %Ln failed</numerusform>
            <numerusform>Total %1 % · %Ln failed</numerusform>
        </translation>
    </message>
</context>
</TS>
