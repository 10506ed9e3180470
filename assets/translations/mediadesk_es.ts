<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="es" sourcelanguage="en">
<context>
    <name>Confirm</name>
    <message numerus="yes">
        <location filename="../../desktop_app/views/confirm.py" line="35"/>
        <source>…and %Ln more</source>
        <translation>
            <numerusform>…y %Ln más</numerusform>
            <numerusform>…y %Ln más</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/confirm.py" line="47"/>
        <source>This cannot be undone.</source>
        <translation>No se puede deshacer.</translation>
    </message>
</context>
<context>
    <name>ConflictDialog</name>
    <message>
        <location filename="../../desktop_app/views/conflict_dialog.py" line="50"/>
        <source>Changed by someone else</source>
        <translation>Modificado por otra persona</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/conflict_dialog.py" line="53"/>
        <source>“%1” was changed elsewhere while you were editing it.</source>
        <translation>«%1» se modificó en otro sitio mientras lo editabas.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/conflict_dialog.py" line="57"/>
        <source>Last change: %1, on %2.</source>
        <translation>Último cambio: %1, en %2.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/conflict_dialog.py" line="61"/>
        <source>Last change on %1.</source>
        <translation>Último cambio en %1.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/conflict_dialog.py" line="69"/>
        <source>Field</source>
        <translation>Campo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/conflict_dialog.py" line="69"/>
        <source>Theirs (saved)</source>
        <translation>Suyo (guardado)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/conflict_dialog.py" line="69"/>
        <source>Yours (unsaved)</source>
        <translation>Tuyo (sin guardar)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/conflict_dialog.py" line="89"/>
        <source>Reload (drop my edits)</source>
        <translation>Recargar (descartar mis cambios)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/conflict_dialog.py" line="90"/>
        <source>Overwrite with mine</source>
        <translation>Sobrescribir con lo mío</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/conflict_dialog.py" line="114"/>
        <source>File name</source>
        <translation>Nombre del archivo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/conflict_dialog.py" line="115"/>
        <source>Athlete</source>
        <translation>Deportista</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/conflict_dialog.py" line="116"/>
        <source>Public</source>
        <translation>Público</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/conflict_dialog.py" line="117"/>
        <source>Description</source>
        <translation>Descripción</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/conflict_dialog.py" line="122"/>
        <source>None</source>
        <translation>Ninguno</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/conflict_dialog.py" line="124"/>
        <source>Yes</source>
        <translation>Sí</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/conflict_dialog.py" line="124"/>
        <source>No</source>
        <translation>No</translation>
    </message>
</context>
<context>
    <name>DetailsPanel</name>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="227"/>
        <source>Select a file to see its details.</source>
        <translation>Selecciona un archivo para ver sus detalles.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="253"/>
        <source>Discard</source>
        <translation>Descartar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="254"/>
        <source>Restore and save</source>
        <translation>Restaurar y guardar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="256"/>
        <source>Take the file out of the trash and save your changes to it</source>
        <translation>Sacar el archivo de la papelera y guardar en él tus cambios</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="289"/>
        <location filename="../../desktop_app/views/details_panel.py" line="730"/>
        <source>Metadata</source>
        <translation>Metadatos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="299"/>
        <source>Public</source>
        <translation>Público</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="300"/>
        <source>Anyone with the link can view a public file.</source>
        <translation>Cualquiera con el enlace puede ver un archivo público.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="303"/>
        <source>Event, place, people…</source>
        <translation>Evento, lugar, personas…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="309"/>
        <source>File name</source>
        <translation>Nombre del archivo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="310"/>
        <source>Athlete</source>
        <translation>Deportista</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="311"/>
        <source>Sharing</source>
        <translation>Compartir</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="312"/>
        <source>Description</source>
        <translation>Descripción</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="315"/>
        <source>Revert</source>
        <translation>Deshacer cambios</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="316"/>
        <source>Save</source>
        <translation>Guardar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="331"/>
        <source>Save the changes (Enter in the name, %1)</source>
        <translation>Guardar los cambios (Intro en el nombre, %1)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="349"/>
        <source>Actions</source>
        <translation>Acciones</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="351"/>
        <source>Preview</source>
        <translation>Vista previa</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="352"/>
        <source>Copy link</source>
        <translation>Copiar enlace</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="353"/>
        <source>Export…</source>
        <translation>Exportar…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="354"/>
        <source>Move to trash</source>
        <translation>Mover a la papelera</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="355"/>
        <source>Restore</source>
        <translation>Restaurar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="359"/>
        <source>Delete permanently</source>
        <translation>Eliminar definitivamente</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="659"/>
        <source>In the trash since %1.</source>
        <translation>En la papelera desde el %1.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="662"/>
        <source>Deleted for good at the next clean-up unless restored.</source>
        <translation>Se borrará en la próxima limpieza si no lo restauras.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="665"/>
        <source>Deleted for good on %1 unless restored.</source>
        <translation>Se borrará el %1 si no lo restauras.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="358"/>
        <source>Process again</source>
        <translation>Reprocesar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="381"/>
        <source>Technical details</source>
        <translation>Detalles técnicos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="394"/>
        <source>Type</source>
        <translation>Tipo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="395"/>
        <source>Size</source>
        <translation>Tamaño</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="396"/>
        <source>Dimensions</source>
        <translation>Dimensiones</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="397"/>
        <source>Duration</source>
        <translation>Duración</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="398"/>
        <source>Codecs</source>
        <translation>Códecs</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="399"/>
        <source>Frame rate</source>
        <translation>Fotogramas/s</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="400"/>
        <source>SHA-256</source>
        <translation>SHA-256</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="401"/>
        <source>Storage key</source>
        <translation>Clave de almacén</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="402"/>
        <source>Created</source>
        <translation>Creado</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="403"/>
        <source>File ID</source>
        <translation>ID del archivo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="428"/>
        <source>Copy</source>
        <translation>Copiar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="430"/>
        <source>Copy %1</source>
        <translation>Copiar %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="479"/>
        <source>(none)</source>
        <translation>(ninguno)</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/details_panel.py" line="505"/>
        <source>%Ln files selected</source>
        <translation>
            <numerusform>%Ln archivo seleccionado</numerusform>
            <numerusform>%Ln archivos seleccionados</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="509"/>
        <source>The details below are of “%1”. Restore and Delete permanently act on all of them.</source>
        <translation>Los detalles de abajo son de «%1». Restaurar y Eliminar definitivamente actúan sobre todos ellos.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="514"/>
        <source>The details below are of “%1”. Export, Process again, Move to trash and Delete permanently act on all of them.</source>
        <translation>Los detalles de abajo son de «%1». Exportar, Reprocesar, Mover a la papelera y Eliminar definitivamente actúan sobre todos ellos.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="628"/>
        <source>Your unsaved changes are still here: restore the file and save them, or discard them.</source>
        <translation>Tus cambios sin guardar siguen aquí: restaura el archivo y guárdalos, o descártalos.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="633"/>
        <source>Your unsaved changes are still here, but they can no longer be saved: copy what you need, then discard them.</source>
        <translation>Tus cambios sin guardar siguen aquí, pero ya no se pueden guardar: copia lo que necesites y luego descártalos.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="730"/>
        <source>Metadata (unsaved changes)</source>
        <translation>Metadatos (cambios sin guardar)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="771"/>
        <source>Image</source>
        <translation>Imagen</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="771"/>
        <source>Video</source>
        <translation>Vídeo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/details_panel.py" line="779"/>
        <source>%1 fps</source>
        <translation>%1 fps</translation>
    </message>
</context>
<context>
    <name>EmptyNotice</name>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="264"/>
        <source>Show the &amp;trash</source>
        <translation>&amp;Mostrar la papelera</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="266"/>
        <source>&amp;Clear the search</source>
        <translation>&amp;Borrar la búsqueda</translation>
    </message>
</context>
<context>
    <name>Errors</name>
    <message>
        <location filename="../../desktop_app/errors.py" line="101"/>
        <source>Technical detail: %1</source>
        <translation>Detalle técnico (en inglés): %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="108"/>
        <source>Some of the values are not valid.</source>
        <translation>Algunos de los valores no son válidos.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="109"/>
        <source>This type of file is not supported. MediaDesk accepts JPEG, PNG, WebP and GIF photos and MP4, MOV, AVI, WMV and WebM videos.</source>
        <translation>Este tipo de archivo no es compatible. MediaDesk acepta fotos JPEG, PNG, WebP y GIF y vídeos MP4, MOV, AVI, WMV y WebM.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="114"/>
        <source>The content of the file does not match its type (for example, a photo with a video&apos;s name).</source>
        <translation>El contenido del archivo no corresponde a su tipo (por ejemplo, una foto con nombre de vídeo).</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="119"/>
        <source>The file is larger than the maximum file size set in Settings.</source>
        <translation>El archivo supera el tamaño máximo fijado en los Ajustes.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="122"/>
        <source>The file is empty (0 bytes).</source>
        <translation>El archivo está vacío (0 bytes).</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="123"/>
        <source>The file is damaged or incomplete and cannot be read.</source>
        <translation>El archivo está dañado o incompleto y no se puede leer.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="126"/>
        <source>The file no longer exists. Someone may have deleted it.</source>
        <translation>El archivo ya no existe. Puede que alguien lo haya eliminado.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="129"/>
        <source>The file changed in the meantime, so the action was not done. Check it and try again.</source>
        <translation>El archivo cambió mientras tanto, así que no se hizo nada. Revísalo y vuelve a intentarlo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="133"/>
        <source>The uploaded file does not have the announced size: the upload is incomplete.</source>
        <translation>El archivo subido no tiene el tamaño anunciado: la subida está incompleta.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="137"/>
        <source>The file has not been uploaded yet.</source>
        <translation>El archivo todavía no se ha subido.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="140"/>
        <source>The storage cannot be reached. Check the connection and the storage settings.</source>
        <translation>No se puede acceder al almacenamiento. Comprueba la conexión y los ajustes de almacenamiento.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="144"/>
        <source>There is not enough free space to store the file. Free some space on the disk (or raise the storage quota) and try again.</source>
        <translation>No hay espacio libre suficiente para guardar el archivo. Libera espacio en el disco (o amplía la cuota de almacenamiento) y vuelve a intentarlo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="149"/>
        <source>The link is not valid.</source>
        <translation>El enlace no es válido.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="150"/>
        <source>The link has expired. Ask for a new one.</source>
        <translation>El enlace ha caducado. Pide uno nuevo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="153"/>
        <source>A setting is not valid.</source>
        <translation>Un ajuste no es válido.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="154"/>
        <source>The operation was cancelled.</source>
        <translation>Se canceló la operación.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="156"/>
        <source>The upload and the server disagree on how much was sent. Try again.</source>
        <translation>La subida y el servidor no coinciden en cuánto se ha enviado. Vuelve a intentarlo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="159"/>
        <source>This upload expired or was refused. Start it again.</source>
        <translation>Esta subida caducó o fue rechazada. Empiézala de nuevo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="162"/>
        <source>This upload is being sent by someone else right now. Try again shortly.</source>
        <translation>Otra persona está enviando esta subida ahora mismo. Vuelve a intentarlo en un momento.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="165"/>
        <source>Part of the file arrived damaged and was discarded. Try again.</source>
        <translation>Una parte del archivo llegó dañada y se descartó. Vuelve a intentarlo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="184"/>
        <source>MediaDesk cannot write its catalog file (%1): a read-only disk, or no permission to write it. Make that file writable. The library can still be browsed meanwhile; once the file can be written, changes can be saved again and queued uploads go on by themselves, without restarting MediaDesk.</source>
        <translation>MediaDesk no puede escribir el archivo de su catálogo (%1): un disco de solo lectura, o sin permiso para escribirlo. Haz que se pueda escribir en ese archivo. Mientras tanto la biblioteca se puede consultar; en cuanto se pueda escribir en el archivo, se podrán guardar cambios de nuevo y las subidas en cola seguirán solas, sin reiniciar MediaDesk.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="192"/>
        <source>MediaDesk cannot write in the folder that holds its catalog (%1): a read-only disk, or no permission to write there. Make the folder writable, or choose another data folder. The library can still be browsed meanwhile; once the folder can be written, changes can be saved again and queued uploads go on by themselves, without restarting MediaDesk.</source>
        <translation>MediaDesk no puede escribir en la carpeta que contiene su catálogo (%1): un disco de solo lectura, o sin permiso para escribir ahí. Haz que se pueda escribir en la carpeta o elige otra carpeta de datos. Mientras tanto la biblioteca se puede consultar; en cuanto se pueda escribir en la carpeta, se podrán guardar cambios de nuevo y las subidas en cola seguirán solas, sin reiniciar MediaDesk.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="297"/>
        <source>Someone else changed this file while you were editing it, so your changes were not saved. Check the current values and save again.</source>
        <translation>Otra persona cambió este archivo mientras lo editabas, así que tus cambios no se guardaron. Revisa los valores actuales y vuelve a guardar.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="333"/>
        <source>The storage bucket does not exist: it was deleted, or its name is wrong in the storage settings. Check the bucket name in Settings ▸ Storage.</source>
        <translation>El bucket del almacenamiento no existe: se borró o su nombre está mal en los ajustes de almacenamiento. Revisa el nombre del bucket en Ajustes ▸ Almacenamiento.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="485"/>
        <source>A newer version of MediaDesk upgraded this library while this window was open. Nothing more can be changed here: close MediaDesk and start the newer version. You can still browse and play files.</source>
        <translation>Una versión más nueva de MediaDesk actualizó esta biblioteca mientras esta ventana estaba abierta. Aquí ya no se puede cambiar nada: cierra MediaDesk e inicia la versión más nueva. Todavía puedes explorar y reproducir archivos.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="492"/>
        <source>Another move of this library&apos;s files to a new storage is running (in another window, or on another computer sharing the catalog). Try again once it has finished.</source>
        <translation>Ya hay otro traslado de los archivos de esta biblioteca a un nuevo almacenamiento en curso (en otra ventana, o en otro ordenador que comparte el catálogo). Vuelve a intentarlo cuando termine.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="499"/>
        <source>The file is already in the trash.</source>
        <translation>El archivo ya está en la papelera.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="501"/>
        <source>The file is not in the trash.</source>
        <translation>El archivo no está en la papelera.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="503"/>
        <source>The file is being deleted for good (the trash is being emptied, perhaps on another computer) and can no longer be restored.</source>
        <translation>El archivo se está eliminando definitivamente (se está vaciando la papelera, quizá en otro ordenador) y ya no se puede restaurar.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="516"/>
        <source>The video&apos;s picture (%1 × %2) is larger than MediaDesk takes: at most 8192 × 4352 pixels (8K), and %3 on a side.</source>
        <translation>La imagen del vídeo (%1 × %2) es mayor de lo que MediaDesk admite: como máximo 8192 × 4352 píxeles (8K) y %3 por lado.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="532"/>
        <source>The file is larger than the limit of %1. You can raise the limit in Settings ▸ Limits.</source>
        <translation>El archivo supera el límite de %1. Puedes subir el límite en Ajustes ▸ Límites.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="526"/>
        <source>The image is damaged or cut short: it cannot be read whole.</source>
        <translation>La imagen está dañada o cortada: no se puede leer entera.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="97"/>
        <source>Technical detail: %1</source>
        <comment>a detail already in the interface language</comment>
        <translation>Detalle técnico: %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="608"/>
        <source>The image is larger than %1 megapixels (%2 × %3) and cannot be opened.</source>
        <translation>La imagen supera los %1 megapíxeles (%2 × %3) y no se puede abrir.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="615"/>
        <source>The image is larger than %1 megapixels and cannot be opened.</source>
        <translation>La imagen supera los %1 megapíxeles y no se puede abrir.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="542"/>
        <source>This library does not accept %1 files: the setting %2 leaves them out.</source>
        <translation>Esta biblioteca no acepta archivos %1: el ajuste %2 los deja fuera.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="210"/>
        <source>MediaDesk&apos;s catalog no longer records which version its tables are at (its alembic_version table was emptied or deleted), so MediaDesk can neither set it up nor upgrade it, and did not open it. Nothing was changed.</source>
        <translation>El catálogo de MediaDesk ya no registra en qué versión están sus tablas (su tabla alembic_version se vació o se borró), así que MediaDesk no puede prepararlo ni actualizarlo, y no lo abrió. No se ha cambiado nada.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="217"/>
        <source>Its tables are those of this version: close every MediaDesk using this catalog, then run `mediadesk catalog record-schema` (with the same --data-dir or DATABASE_URL); it checks the tables again and records their version, changing nothing else. Or restore the catalog from a backup.</source>
        <translation>Sus tablas son las de esta versión: cierra todos los MediaDesk que usen este catálogo y ejecuta `mediadesk catalog record-schema` (con el mismo --data-dir o DATABASE_URL); comprueba de nuevo las tablas y registra su versión, sin cambiar nada más. O restaura el catálogo desde una copia de seguridad.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="225"/>
        <source>Its tables are not those of this version: the technical detail below says what can be done with them.</source>
        <translation>Sus tablas no son las de esta versión: el detalle técnico de abajo dice qué se puede hacer con ellas.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="242"/>
        <source>a whole number</source>
        <translation>un número entero</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="243"/>
        <source>yes or no: 1, true, yes or on; 0, false, no or off</source>
        <translation>sí o no: 1, true, yes u on; 0, false, no u off</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="246"/>
        <source>a comma-separated list</source>
        <translation>una lista separada por comas</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="250"/>
        <source>The setting %1 has a value MediaDesk cannot read.</source>
        <translation>El ajuste %1 tiene un valor que MediaDesk no puede leer.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="254"/>
        <source>The setting %1 has a value MediaDesk cannot read: it must be %2.</source>
        <translation>El ajuste %1 tiene un valor que MediaDesk no puede leer: debe ser %2.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="291"/>
        <source>Someone else renamed this athlete to “%1” while you were renaming it, so your name was not saved.</source>
        <translation>Otra persona cambió el nombre de este deportista a «%1» mientras se lo cambiabas tú, así que tu nombre no se guardó.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="312"/>
        <source>An athlete named “%1” already exists. Choose another name.</source>
        <translation>Ya existe un deportista llamado «%1». Elige otro nombre.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="681"/>
        <source>Another file already holds the same photo or video for this athlete with this visibility: nothing was changed.</source>
        <translation>Otro archivo ya contiene la misma foto o vídeo para este deportista con esta visibilidad: no se ha cambiado nada.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="694"/>
        <source>Another file already holds the same photo or video for this athlete with this visibility (file %1): nothing was changed.</source>
        <translation>Otro archivo ya contiene la misma foto o vídeo para este deportista con esta visibilidad (archivo %1): no se ha cambiado nada.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="707"/>
        <source>Another file already holds the same photo or video for this athlete with this visibility, “%2” (file %1): nothing was changed.</source>
        <translation>Otro archivo ya contiene la misma foto o vídeo para este deportista con esta visibilidad, «%2» (archivo %1): no se ha cambiado nada.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="340"/>
        <source>The stored copy of this file is damaged: it is not the size or the content the catalog records (a bad restore or a disk fault). Restore the file from a backup.</source>
        <translation>La copia guardada de este archivo está dañada: no tiene el tamaño o el contenido que indica el catálogo (una restauración fallida o un fallo del disco). Restaura el archivo desde una copia de seguridad.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="321"/>
        <source>The file grew while it was uploading, again after the upload started over: it is still being recorded or copied. Upload it again once it is complete.</source>
        <translation>El archivo creció mientras se subía, también después de que la subida volviera a empezar: todavía se está grabando o copiando. Vuelve a subirlo cuando esté completo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="326"/>
        <source>The file changed while it was uploading, again after the upload started over: a program is still writing to it. Upload it again once it is no longer changing.</source>
        <translation>El archivo cambió mientras se subía, también después de que la subida volviera a empezar: algún programa sigue escribiendo en él. Vuelve a subirlo cuando ya no cambie.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="347"/>
        <source>This file is on a storage MediaDesk was started without (its files were moved there from another window or computer). Close MediaDesk and start it again with that storage&apos;s settings: save them once with `mediadesk storage migrate --save-keys`, or in Settings ▸ Storage.</source>
        <translation>Este archivo está en un almacenamiento con el que MediaDesk no se inició (sus archivos se movieron allí desde otra ventana u otro ordenador). Cierra MediaDesk y vuelve a abrirlo con los ajustes de ese almacenamiento: guárdalos una vez con `mediadesk storage migrate --save-keys`, o en Ajustes ▸ Almacenamiento.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="357"/>
        <source>The storage is busy and asks for fewer requests right now. It serves again by itself: the connection and the storage settings are fine.</source>
        <translation>El almacenamiento está ocupado y pide menos peticiones ahora mismo. Volverá a responder por sí solo: la conexión y los ajustes de almacenamiento están bien.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="363"/>
        <source>The storage service is failing right now (an error on its side, not in MediaDesk&apos;s storage settings). It usually serves again by itself.</source>
        <translation>El servicio de almacenamiento está fallando ahora mismo (un error suyo, no de los ajustes de almacenamiento de MediaDesk). Suele volver a responder por sí solo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="371"/>
        <source>MediaDesk cannot reach its catalog (the database): its server is stopped or restarting, or the network to it is down. Check the database server and the network, not the storage settings. Once the catalog answers again, changes can be saved again and queued uploads go on by themselves, without restarting MediaDesk.</source>
        <translation>MediaDesk no puede acceder a su catálogo (la base de datos): su servidor está detenido o reiniciándose, o no hay conexión de red con él. Comprueba el servidor de la base de datos y la red, no los ajustes de almacenamiento. En cuanto el catálogo vuelva a responder, se podrán guardar cambios de nuevo y las subidas en cola seguirán solas, sin reiniciar MediaDesk.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="380"/>
        <source>The database server of MediaDesk&apos;s catalog refused its sign-in: a wrong password, user or database name in DATABASE_URL, or a password changed on that server. Waiting does not help: correct DATABASE_URL or ask the database&apos;s administrator. Once the sign-in is right, MediaDesk works again without a restart.</source>
        <translation>El servidor de la base de datos del catálogo de MediaDesk rechazó su inicio de sesión: una contraseña, un usuario o un nombre de base de datos incorrectos en DATABASE_URL, o una contraseña cambiada en ese servidor. Esperar no sirve: corrige DATABASE_URL o pregunta al administrador de la base de datos. En cuanto el inicio de sesión sea correcto, MediaDesk vuelve a funcionar sin reiniciarlo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="393"/>
        <source>Another program is holding MediaDesk&apos;s catalog locked (%1): a database browser or backup tool left open, a script, or another MediaDesk busy on the same data folder. Close it or wait for it to finish; changes can then be saved again and queued uploads go on by themselves, without restarting MediaDesk.</source>
        <translation>Otro programa mantiene bloqueado el catálogo de MediaDesk (%1): un navegador de bases de datos o una herramienta de copias de seguridad que quedó abierta, un script u otro MediaDesk ocupado con la misma carpeta de datos. Ciérralo o espera a que termine; después se podrán guardar cambios de nuevo y las subidas en cola seguirán solas, sin reiniciar MediaDesk.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="406"/>
        <source>The disk holding the library (%1) cannot be read or written: it was unplugged, or the network share is gone. Connect it again, then try again.</source>
        <translation>No se puede leer ni escribir en el disco que contiene la biblioteca (%1): se desconectó, o la carpeta de red ya no está. Conéctalo de nuevo y vuelve a intentarlo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="416"/>
        <source>MediaDesk may not write in its storage folder (%1): the disk is read-only (remounted after a disk error, or a memory card&apos;s lock switch) or MediaDesk lost the permission to write there. Make it writable, then try again; the library can still be browsed meanwhile.</source>
        <translation>MediaDesk no puede escribir en su carpeta de almacenamiento (%1): el disco es de solo lectura (se volvió a montar tras un error del disco, o el interruptor de bloqueo de una tarjeta de memoria) o MediaDesk perdió el permiso para escribir ahí. Hazla escribible y vuelve a intentarlo; mientras tanto puedes seguir explorando la biblioteca.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="427"/>
        <source>MediaDesk&apos;s catalog file is damaged (a copy that did not finish, a restore cut short). Put a whole copy of it back from a backup, then start MediaDesk again.</source>
        <translation>El archivo del catálogo de MediaDesk está dañado (una copia que no terminó, una restauración interrumpida). Vuelve a ponerlo en su sitio desde una copia de seguridad completa y después inicia MediaDesk de nuevo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="433"/>
        <source>There is a folder where MediaDesk&apos;s catalog file should be. Move that folder away, or choose another data folder.</source>
        <translation>Hay una carpeta donde debería estar el archivo del catálogo de MediaDesk. Mueve esa carpeta a otro sitio o elige otra carpeta de datos.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="444"/>
        <source>The stored copy of this file is missing, though the catalog still lists it (deleted outside MediaDesk, or a bad restore). Restore it from a backup; `mediadesk maintenance` lists such files.</source>
        <translation>Falta la copia guardada de este archivo, aunque el catálogo todavía lo incluye (se eliminó fuera de MediaDesk, o una restauración fallida). Restáuralo desde una copia de seguridad; `mediadesk maintenance` enumera esos archivos.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="452"/>
        <source>The copy at the new storage did not match the original, so the file stayed where it is. Running the move again retries it.</source>
        <translation>La copia en el nuevo almacenamiento no coincidía con el original, así que el archivo se quedó donde estaba. Al volver a iniciar el traslado se reintenta.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="460"/>
        <source>There is not enough free space to save the change. Free some space on the disk (or raise the storage quota) and try again.</source>
        <translation>No hay espacio libre suficiente para guardar el cambio. Libera espacio en el disco (o amplía la cuota de almacenamiento) y vuelve a intentarlo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="468"/>
        <source>A newer version of MediaDesk has upgraded this library, and this version cannot open it. Start the newer version (or a later one). Nothing was changed.</source>
        <translation>Una versión más reciente de MediaDesk ha actualizado esta biblioteca y esta versión no puede abrirla. Inicia la versión más reciente (u otra posterior). No se ha cambiado nada.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="476"/>
        <source>This version of MediaDesk must upgrade the library first, but other MediaDesk programs are using it (%1). Close them (on every computer sharing it), then start MediaDesk again. Nothing was changed.</source>
        <translation>Esta versión de MediaDesk debe actualizar antes la biblioteca, pero otros programas de MediaDesk la están usando (%1). Ciérralos (en todos los equipos que la comparten) y vuelve a iniciar MediaDesk. No se ha cambiado nada.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="554"/>
        <source>This file is not an image or video of a type MediaDesk accepts. This library accepts %1 files.</source>
        <translation>Este archivo no es una imagen ni un vídeo de un tipo que MediaDesk acepte. Esta biblioteca acepta archivos %1.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="559"/>
        <source>This file is not an image or video of a type MediaDesk accepts: JPEG, PNG, WebP and GIF photos and MP4, MOV, AVI, WMV and WebM videos.</source>
        <translation>Este archivo no es una imagen ni un vídeo de un tipo que MediaDesk acepte: fotos JPEG, PNG, WebP y GIF y vídeos MP4, MOV, AVI, WMV y WebM.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="573"/>
        <source>This type of file (%1) is not supported. This library accepts %2 files.</source>
        <translation>Este tipo de archivo (%1) no es compatible. Esta biblioteca acepta archivos %2.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="580"/>
        <source>This type of file (%1) is not supported. MediaDesk accepts JPEG, PNG, WebP and GIF photos and MP4, MOV, AVI, WMV and WebM videos.</source>
        <translation>Este tipo de archivo (%1) no es compatible. MediaDesk acepta fotos JPEG, PNG, WebP y GIF y vídeos MP4, MOV, AVI, WMV y WebM.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="586"/>
        <source>The file name cannot be empty.</source>
        <translation>El nombre del archivo no puede estar vacío.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="588"/>
        <source>The description is too long (at most 10,000 characters).</source>
        <translation>La descripción es demasiado larga (como máximo 10.000 caracteres).</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="592"/>
        <source>A token name needs 1 to 100 visible characters.</source>
        <translation>El nombre de un token necesita de 1 a 100 caracteres visibles.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="631"/>
        <source>The animation has more frames than MediaDesk checks at its size.</source>
        <translation>La animación tiene más fotogramas de los que MediaDesk comprueba a su tamaño.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="635"/>
        <source>The animation has %1 frames of %2 × %3 pixels: more than MediaDesk checks (at most %4 frames of this size).</source>
        <translation>La animación tiene %1 fotogramas de %2 × %3 píxeles: más de los que MediaDesk comprueba (como mucho %4 fotogramas de este tamaño).</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="676"/>
        <source>Another file without an athlete already holds the same photo or video with this visibility: nothing was changed.</source>
        <translation>Otro archivo sin deportista ya contiene la misma foto o vídeo con esta visibilidad: no se ha cambiado nada.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="688"/>
        <source>Another file without an athlete already holds the same photo or video with this visibility (file %1): nothing was changed.</source>
        <translation>Otro archivo sin deportista ya contiene la misma foto o vídeo con esta visibilidad (archivo %1): no se ha cambiado nada.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="701"/>
        <source>Another file without an athlete already holds the same photo or video with this visibility, “%2” (file %1): nothing was changed.</source>
        <translation>Otro archivo sin deportista ya contiene la misma foto o vídeo con esta visibilidad, «%2» (archivo %1): no se ha cambiado nada.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="722"/>
        <source>“%1” is not a valid address: it is an IP address with numbers left out, which would be read as %2. Write it in full, like 127.0.0.1, or enter a host name.</source>
        <translation>«%1» no es una dirección válida: es una dirección IP a la que le faltan números, que se leería como %2. Escríbela completa, como 127.0.0.1, o escribe un nombre de equipo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="728"/>
        <source>“%1” is not a valid address: it is an IP address with numbers left out. Write it in full, like 127.0.0.1, or enter a host name.</source>
        <translation>«%1» no es una dirección válida: es una dirección IP a la que le faltan números. Escríbela completa, como 127.0.0.1, o escribe un nombre de equipo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="734"/>
        <source>“%1” is not a valid address: an IP address is four numbers from 0 to 255, like 127.0.0.1. Enter one like that, or a host name.</source>
        <translation>«%1» no es una dirección válida: una dirección IP son cuatro números del 0 al 255, como 127.0.0.1. Escribe una así o un nombre de equipo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="740"/>
        <source>“%1” is not a valid address: enter an IP address like 127.0.0.1, or a host name (letters, digits and hyphens, in parts of 1 to 63 characters separated by dots).</source>
        <translation>«%1» no es una dirección válida: escribe una dirección IP como 127.0.0.1 o un nombre de equipo (letras, cifras y guiones, en partes de 1 a 63 caracteres separadas por puntos).</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="760"/>
        <source>No computer named “%1” can be found. Check how it is written, or enter an IP address such as 127.0.0.1 (this computer only) or 0.0.0.0 (the network).</source>
        <translation>No se encuentra ningún ordenador llamado «%1». Revisa cómo está escrito o escribe una dirección IP como 127.0.0.1 (solo este ordenador) o 0.0.0.0 (la red).</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="766"/>
        <source>The name “%1” could not be looked up: the network&apos;s name server does not answer. Check the connection, or enter an IP address such as 127.0.0.1 (this computer only) or 0.0.0.0 (the network).</source>
        <translation>No se pudo buscar el nombre «%1»: el servidor de nombres de la red no responde. Revisa la conexión o escribe una dirección IP como 127.0.0.1 (solo este ordenador) o 0.0.0.0 (la red).</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="779"/>
        <source>A computer&apos;s name could not be found. Check how it is written and the network connection.</source>
        <translation>No se encuentra el nombre de un ordenador. Revisa cómo está escrito y la conexión de red.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="791"/>
        <source>The port is already used by another program. Choose another port.</source>
        <translation>Otro programa ya usa el puerto. Elige otro puerto.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="798"/>
        <source>This computer has no network address like that.</source>
        <translation>Este ordenador no tiene esa dirección de red.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="803"/>
        <source>MediaDesk is not allowed to use %1.</source>
        <translation>MediaDesk no tiene permiso para usar %1.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="807"/>
        <source>MediaDesk is not allowed to do this.</source>
        <translation>MediaDesk no tiene permiso para hacer esto.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="812"/>
        <source>%1 does not exist.</source>
        <translation>%1 no existe.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="814"/>
        <source>The file or folder does not exist.</source>
        <translation>El archivo o la carpeta no existe.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="819"/>
        <source>The operation took too long and was stopped.</source>
        <translation>La operación tardaba demasiado y se detuvo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="823"/>
        <source>A file or network operation failed.</source>
        <translation>Falló una operación de archivos o de red.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="832"/>
        <source>The file has no picture (sound only).</source>
        <translation>El archivo no tiene imagen (solo sonido).</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="833"/>
        <source>The video has no picture size.</source>
        <translation>El vídeo no tiene tamaño de imagen.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="834"/>
        <source>Only MP4 and MOV files need a fast-start copy.</source>
        <translation>Solo los archivos MP4 y MOV necesitan una copia de inicio rápido.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="837"/>
        <source>The original already starts playing at once.</source>
        <translation>El original ya empieza a reproducirse al instante.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="840"/>
        <source>No picture of the video could be read.</source>
        <translation>No se pudo leer ninguna imagen del vídeo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="843"/>
        <source>The original already plays in browsers.</source>
        <translation>El original ya se reproduce en los navegadores.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="852"/>
        <source>The video cannot be decoded: the file is damaged, cut short or in a format MediaDesk cannot read.</source>
        <translation>No se puede decodificar el vídeo: el archivo está dañado, cortado o en un formato que MediaDesk no sabe leer.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="857"/>
        <source>The video converter (FFmpeg) failed while making this version.</source>
        <translation>El conversor de vídeo (FFmpeg) falló al crear esta versión.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="860"/>
        <source>The original file is missing from the storage.</source>
        <translation>Falta el archivo original en el almacenamiento.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="863"/>
        <source>The storage could not be read or written. Check that it is connected, then retry.</source>
        <translation>No se pudo leer ni escribir en el almacenamiento. Comprueba que esté conectado y vuelve a intentarlo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="867"/>
        <source>There is not enough free disk space. Free some space, then retry.</source>
        <translation>No hay suficiente espacio libre en el disco. Libera espacio y vuelve a intentarlo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="870"/>
        <source>The processing stopped before finishing every time it was tried (the program doing it stopped or stopped responding). Retry it.</source>
        <translation>El procesamiento se detuvo antes de terminar cada vez que se intentó (el programa que lo hacía se cerró o dejó de responder). Vuelve a intentarlo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="875"/>
        <source>Something went wrong inside MediaDesk. The details are in the log file.</source>
        <translation>Algo salió mal dentro de MediaDesk. Los detalles están en el archivo de registro.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="905"/>
        <source>it is a file, not a folder</source>
        <translation>es un archivo, no una carpeta</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="907"/>
        <source>it is inside %1, which is a file</source>
        <translation>está dentro de %1, que es un archivo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="911"/>
        <source>%1 is a file, not a folder</source>
        <translation>%1 es un archivo, no una carpeta</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="916"/>
        <source>%1 is a link to %2, which does not exist</source>
        <translation>%1 es un enlace a %2, que no existe</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="923"/>
        <source>the user %1 may not read it: run MediaDesk as %2, who owns %3, or give %1 access to it</source>
        <translation>el usuario %1 no puede leerla: ejecuta MediaDesk como %2, propietario de %3, o da acceso a %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="934"/>
        <source>MediaDesk is not allowed to create %1</source>
        <translation>MediaDesk no tiene permiso para crear %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="936"/>
        <source>%1 is on a read-only disk</source>
        <translation>%1 está en un disco de solo lectura</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="938"/>
        <source>the disk of %1 is full</source>
        <translation>el disco de %1 está lleno</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="940"/>
        <source>%1 cannot be created</source>
        <translation>no se puede crear %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="953"/>
        <source>user id %1</source>
        <translation>el usuario con id %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="962"/>
        <source>The secret “%1” in the data folder&apos;s secrets folder belongs to another user, so it may have been planted. Give it back to the user MediaDesk runs as (chown) and restrict it (chmod 600 for a file, 700 for the secrets folder), or remove it: a new key is made, and links signed with the old one stop working.</source>
        <translation>El secreto «%1» de la carpeta de secretos de la carpeta de datos pertenece a otro usuario, así que podría haber sido colocado por otra persona. Devuélveselo al usuario con el que se ejecuta MediaDesk (chown) y restríngelo (chmod 600 para un archivo, 700 para la carpeta de secretos), o bórralo: se crea una clave nueva y los enlaces firmados con la anterior dejan de funcionar.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="970"/>
        <source>The secret “%1” in the data folder&apos;s secrets folder can be changed by other users, so it may have been replaced. Check it, then restrict it (chmod 600 for a file, 700 for the secrets folder), or remove it.</source>
        <translation>El secreto «%1» de la carpeta de secretos de la carpeta de datos puede ser modificado por otros usuarios, así que podría haber sido sustituido. Revísalo y luego restríngelo (chmod 600 para un archivo, 700 para la carpeta de secretos), o bórralo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="986"/>
        <source>The data folder %1 cannot be used: %2.</source>
        <translation>La carpeta de datos %1 no se puede usar: %2.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="992"/>
        <source>Choose another folder.</source>
        <translation>Elige otra carpeta.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="993"/>
        <source>It is set as data_dir in the settings file %1: correct or remove that line.</source>
        <translation>Está indicada como data_dir en el archivo de ajustes %1: corrígela o borra esa línea.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="996"/>
        <source>It is set by the environment variable MEDIADESK_DATA_DIR.</source>
        <translation>La fija la variable de entorno MEDIADESK_DATA_DIR.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="999"/>
        <source>It was given with --data-dir.</source>
        <translation>Se indicó con --data-dir.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="1002"/>
        <source>It is the default folder of your user account: choose another one with MEDIADESK_DATA_DIR or --data-dir.</source>
        <translation>Es la carpeta predeterminada de tu cuenta de usuario: elige otra con MEDIADESK_DATA_DIR o --data-dir.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="1024"/>
        <source>Something went wrong.</source>
        <translation>Algo salió mal.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="1044"/>
        <source>Something unexpected went wrong. The details are in the log file.</source>
        <translation>Ocurrió un error inesperado. Los detalles están en el archivo de registro.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="1082"/>
        <source>Try again in %1 s.</source>
        <translation>Vuelve a intentarlo dentro de %1 s.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="1176"/>
        <source>The server cannot be reached. Check that it is running and that this computer is connected, then try again.</source>
        <translation>No se puede conectar con el servidor. Comprueba que está en marcha y que este equipo está conectado, y vuelve a intentarlo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="1182"/>
        <source>The file could not be downloaded: the server answered with error %1.</source>
        <translation>No se pudo descargar el archivo: el servidor respondió con el error %1.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/errors.py" line="1186"/>
        <source>The file could not be downloaded.</source>
        <translation>No se pudo descargar el archivo.</translation>
    </message>
</context>
<context>
    <name>FileBrowser</name>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="402"/>
        <source>Newest first</source>
        <translation>Más recientes primero</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="403"/>
        <source>Oldest first</source>
        <translation>Más antiguos primero</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="406"/>
        <source>Shot: newest</source>
        <translation>Captura: más reciente</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="407"/>
        <source>Shot: oldest</source>
        <translation>Captura: más antigua</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="408"/>
        <source>Name A–Z</source>
        <translation>Nombre A–Z</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="409"/>
        <source>Name Z–A</source>
        <translation>Nombre Z–A</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="410"/>
        <source>Largest first</source>
        <translation>Más grandes primero</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="411"/>
        <source>Smallest first</source>
        <translation>Más pequeños primero</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="412"/>
        <source>Longest first</source>
        <translation>Más largos primero</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="413"/>
        <source>Shortest first</source>
        <translation>Más cortos primero</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="414"/>
        <source>Recent edits</source>
        <translation>Edición: más reciente</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="415"/>
        <source>Oldest edits</source>
        <translation>Edición: más antigua</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="418"/>
        <source>By date taken: when each photo or video was shot (its camera&apos;s date); a file without one, when it was uploaded</source>
        <translation>Por fecha de captura: cuándo se tomó cada foto o vídeo (la fecha de su cámara); un archivo sin ella, cuándo se subió</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="426"/>
        <source>Sort by date, name, size, duration or last edit</source>
        <translation>Ordenar por fecha, nombre, tamaño, duración o última edición</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="431"/>
        <source>Sort:</source>
        <translation>Orden:</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="433"/>
        <source>Sort</source>
        <translation>Orden</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="1101"/>
        <source>%Ln file(s)</source>
        <translation>
            <numerusform>%Ln archivo</numerusform>
            <numerusform>%Ln archivos</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="1213"/>
        <source>The files cannot be listed: the catalog (database) cannot be reached right now.

They are listed by themselves once it is back.</source>
        <translation>No se pueden mostrar los archivos: no se puede acceder al catálogo (la base de datos) en este momento.

Se mostrarán solos cuando vuelva a estar disponible.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="1216"/>
        <source>The files could not be listed.

Try again with %1.</source>
        <translation>No se han podido mostrar los archivos.

Vuelve a intentarlo con %1.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="1278"/>
        <source>No photos yet.

Drop photos or whole folders anywhere on this window, or use %1.</source>
        <translation>Todavía no hay fotos.

Suelta fotos o carpetas enteras en cualquier parte de esta ventana, o usa %1.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="1282"/>
        <source>No videos yet.

Drop videos or whole folders anywhere on this window, or use %1.</source>
        <translation>Todavía no hay vídeos.

Suelta vídeos o carpetas enteras en cualquier parte de esta ventana, o usa %1.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="1285"/>
        <source>No files here yet.

Drop photos, videos or whole folders anywhere on this window, or use %1.</source>
        <translation>Todavía no hay archivos aquí.

Suelta fotos, vídeos o carpetas enteras en cualquier parte de esta ventana, o usa %1.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="1224"/>
        <source>No files match “%1”.</source>
        <translation>Ningún archivo coincide con «%1».</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="307"/>
        <source>Files</source>
        <translation>Archivos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="381"/>
        <source>Search</source>
        <translation>Buscar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="387"/>
        <source>Clear the search</source>
        <translation>Borrar la búsqueda</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="1228"/>
        <source>All %Ln photo(s) of the library are in the trash.

Show the trash to restore them, or drop new photos anywhere on this window.</source>
        <translation>
            <numerusform>La única foto de la biblioteca está en la papelera.

Muestra la papelera para restaurarla, o suelta fotos nuevas en cualquier parte de esta ventana.</numerusform>
            <numerusform>Las %Ln fotos de la biblioteca están en la papelera.

Muestra la papelera para restaurarlas, o suelta fotos nuevas en cualquier parte de esta ventana.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="1235"/>
        <source>All %Ln video(s) of the library are in the trash.

Show the trash to restore them, or drop new videos anywhere on this window.</source>
        <translation>
            <numerusform>El único vídeo de la biblioteca está en la papelera.

Muestra la papelera para restaurarlo, o suelta vídeos nuevos en cualquier parte de esta ventana.</numerusform>
            <numerusform>Los %Ln vídeos de la biblioteca están en la papelera.

Muestra la papelera para restaurarlos, o suelta vídeos nuevos en cualquier parte de esta ventana.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="1242"/>
        <source>All %Ln file(s) of %1 are in the trash.

Show the trash to restore them, or drop new files anywhere on this window while %1 is selected.</source>
        <translation>
            <numerusform>El único archivo de %1 está en la papelera.

Muestra la papelera para restaurarlo, o suelta archivos nuevos en cualquier parte de esta ventana con %1 seleccionado.</numerusform>
            <numerusform>Los %Ln archivos de %1 están en la papelera.

Muestra la papelera para restaurarlos, o suelta archivos nuevos en cualquier parte de esta ventana con %1 seleccionado.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="1250"/>
        <source>All %Ln file(s) of the library are in the trash.

Show the trash to restore them, or drop new photos and videos anywhere on this window.</source>
        <translation>
            <numerusform>El único archivo de la biblioteca está en la papelera.

Muestra la papelera para restaurarlo, o suelta fotos y vídeos nuevos en cualquier parte de esta ventana.</numerusform>
            <numerusform>Los %Ln archivos de la biblioteca están en la papelera.

Muestra la papelera para restaurarlos, o suelta fotos y vídeos nuevos en cualquier parte de esta ventana.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="1257"/>
        <source>The trash is empty.</source>
        <translation>La papelera está vacía.</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/browser.py" line="1260"/>
        <source>Files you move to the trash stay here for %Ln day(s) before they are deleted for good.</source>
        <translation>
            <numerusform>Los archivos que mueves a la papelera se quedan aquí %Ln día antes de eliminarse definitivamente.</numerusform>
            <numerusform>Los archivos que mueves a la papelera se quedan aquí %Ln días antes de eliminarse definitivamente.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="1268"/>
        <source>No public files.

Tick “Public” in the details of a file to share it with anyone who has its link.</source>
        <translation>No hay archivos públicos.

Marca «Público» en los detalles de un archivo para compartirlo con cualquiera que tenga el enlace.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/browser.py" line="1273"/>
        <source>No photos or videos of %1 yet.

Drop files anywhere on this window while %1 is selected: they are filed under %1.</source>
        <translation>Todavía no hay fotos ni vídeos de %1.

Los archivos que sueltes en esta ventana mientras ves esta sección se asignan a %1.</translation>
    </message>
</context>
<context>
    <name>FileGridListModel</name>
    <message>
        <location filename="../../desktop_app/models/file_grid_model.py" line="439"/>
        <source>Deleted for good on %1</source>
        <translation>Se eliminará definitivamente el %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/file_grid_model.py" line="446"/>
        <source>Video</source>
        <translation>Vídeo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/file_grid_model.py" line="446"/>
        <source>Image</source>
        <translation>Imagen</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/file_grid_model.py" line="456"/>
        <source>processing %1</source>
        <translation>procesamiento %1</translation>
    </message>
</context>
<context>
    <name>Formatting</name>
    <message>
        <location filename="../../desktop_app/formatting.py" line="57"/>
        <source>%1/s</source>
        <translation>%1/s</translation>
    </message>
    <message>
        <location filename="../../desktop_app/formatting.py" line="66"/>
        <source>&lt; 1 s</source>
        <translation>&lt; 1 s</translation>
    </message>
</context>
<context>
    <name>ImageLoader</name>
    <message>
        <location filename="../../desktop_app/preview/image_loader.py" line="268"/>
        <location filename="../../desktop_app/preview/image_loader.py" line="317"/>
        <source>The image is too large to preview.</source>
        <translation>La imagen es demasiado grande para la vista previa.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/image_loader.py" line="319"/>
        <source>The image could not be opened.</source>
        <translation>No se pudo abrir la imagen.</translation>
    </message>
</context>
<context>
    <name>ImageViewer</name>
    <message>
        <location filename="../../desktop_app/preview/image_viewer.py" line="90"/>
        <location filename="../../desktop_app/preview/image_viewer.py" line="172"/>
        <source>Loading…</source>
        <translation>Cargando…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/image_viewer.py" line="99"/>
        <source>Image tools</source>
        <translation>Herramientas de imagen</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/image_viewer.py" line="118"/>
        <source>Zoom out</source>
        <translation>Alejar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/image_viewer.py" line="124"/>
        <source>Zoom in</source>
        <translation>Acercar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/image_viewer.py" line="132"/>
        <source>100 %</source>
        <translation>100 %</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/image_viewer.py" line="135"/>
        <source>Fit to window</source>
        <translation>Ajustar a la ventana</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/image_viewer.py" line="197"/>
        <source>Loading… {percent} %</source>
        <translation>Cargando… {percent} %</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/image_viewer.py" line="267"/>
        <source>{percent} %</source>
        <translation>{percent} %</translation>
    </message>
</context>
<context>
    <name>Jobs</name>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="70"/>
        <source>queued</source>
        <translation>en cola</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="71"/>
        <source>running</source>
        <translation>en curso</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="72"/>
        <source>done</source>
        <translation>hecho</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="73"/>
        <source>skipped</source>
        <translation>omitido</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="74"/>
        <source>failed</source>
        <translation>fallido</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="75"/>
        <source>cancelled</source>
        <translation>cancelado</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="85"/>
        <source>original</source>
        <comment>rendition</comment>
        <translation>original</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="86"/>
        <source>faststart</source>
        <comment>job kind</comment>
        <translation>inicio rápido</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="87"/>
        <source>web</source>
        <comment>job kind</comment>
        <translation>web</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="88"/>
        <source>hls</source>
        <comment>job kind</comment>
        <translation>HLS</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="89"/>
        <source>thumbnails</source>
        <comment>job kind</comment>
        <translation>miniaturas</translation>
    </message>
</context>
<context>
    <name>JobsDock</name>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="264"/>
        <location filename="../../desktop_app/views/jobs_dock.py" line="323"/>
        <source>Jobs</source>
        <translation>Trabajos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="284"/>
        <source>All jobs</source>
        <translation>Todos los trabajos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="297"/>
        <source>Jobs shown</source>
        <translation>Trabajos mostrados</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="298"/>
        <source>Show:</source>
        <translation>Mostrar:</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="301"/>
        <source>Cancel</source>
        <translation>Cancelar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="302"/>
        <source>Retry</source>
        <translation>Reintentar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="303"/>
        <source>Process again</source>
        <translation>Reprocesar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="304"/>
        <source>Refresh</source>
        <translation>Actualizar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="313"/>
        <source>Job</source>
        <translation>Trabajo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="314"/>
        <source>File</source>
        <translation>Archivo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="315"/>
        <source>Kind</source>
        <translation>Tipo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="316"/>
        <source>State</source>
        <translation>Estado</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="317"/>
        <source>Progress</source>
        <translation>Progreso</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="318"/>
        <source>Attempts</source>
        <translation>Intentos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="319"/>
        <source>Reason</source>
        <translation>Motivo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="371"/>
        <source>Loading…</source>
        <translation>Cargando…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="375"/>
        <source>No processing jobs yet. Each uploaded video gets a thumbnail and versions that play in browsers; their jobs show here.</source>
        <translation>Aún no hay trabajos de procesamiento. Cada vídeo subido recibe una miniatura y versiones que se reproducen en los navegadores; sus trabajos aparecen aquí.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="380"/>
        <source>No jobs in this state.</source>
        <translation>No hay trabajos en este estado.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="442"/>
        <source>File id: %1</source>
        <translation>Id. del archivo: %1</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/jobs_dock.py" line="532"/>
        <source>Queued %Ln job(s) again</source>
        <translation>
            <numerusform>%Ln trabajo en cola de nuevo</numerusform>
            <numerusform>%Ln trabajos en cola de nuevo</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>LibraryController</name>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="907"/>
        <source>…and %Ln more</source>
        <translation>
            <numerusform>…y %Ln más</numerusform>
            <numerusform>…y %Ln más</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/controllers/library_controller.py" line="586"/>
        <source>Saved %1</source>
        <translation>Guardado: %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/controllers/library_controller.py" line="454"/>
        <source>The catalog (database) cannot be reached right now: the counts are refreshed by themselves once it is back.</source>
        <translation>No se puede acceder al catálogo (la base de datos) en este momento: los recuentos se actualizarán solos cuando vuelva a estar disponible.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/controllers/library_controller.py" line="449"/>
        <source>The catalog (database) cannot be reached right now: the files are listed by themselves once it is back.</source>
        <translation>No se puede acceder al catálogo (la base de datos) en este momento: los archivos se mostrarán solos cuando vuelva a estar disponible.</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="629"/>
        <source>Moved %Ln file(s) to the trash</source>
        <translation>
            <numerusform>Se movió %Ln archivo a la papelera</numerusform>
            <numerusform>Se movieron %Ln archivos a la papelera</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="631"/>
        <source>Moving to the trash: %1 of %Ln file(s)…</source>
        <translation>
            <numerusform>Moviendo a la papelera: %1 de %Ln archivo…</numerusform>
            <numerusform>Moviendo a la papelera: %1 de %Ln archivos…</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/controllers/library_controller.py" line="660"/>
        <source>“%1” became “%2” (file %3), the same photo or video uploaded again meanwhile: its own edits (description, athlete, sharing) gave way to that file&apos;s.</source>
        <translation>«%1» pasó a ser «%2» (archivo %3), la misma foto o vídeo subida de nuevo mientras tanto: sus propios cambios (descripción, deportista, compartir) cedieron ante los de ese archivo.</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="670"/>
        <source>%Ln of them became the copies of the same photos or videos uploaded again meanwhile: their own edits gave way to those copies&apos;.</source>
        <translation>
            <numerusform>%Ln de ellos pasó a ser la copia de la misma foto o vídeo subida de nuevo mientras tanto: sus propios cambios cedieron ante los de esa copia.</numerusform>
            <numerusform>%Ln de ellos pasaron a ser las copias de las mismas fotos o vídeos subidas de nuevo mientras tanto: sus propios cambios cedieron ante los de esas copias.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="681"/>
        <source>Restored %Ln file(s)</source>
        <translation>
            <numerusform>Se restauró %Ln archivo</numerusform>
            <numerusform>Se restauraron %Ln archivos</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="682"/>
        <source>Restoring: %1 of %Ln file(s)…</source>
        <translation>
            <numerusform>Restaurando: %1 de %Ln archivo…</numerusform>
            <numerusform>Restaurando: %1 de %Ln archivos…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="687"/>
        <source>Nothing to restore: the file was already restored</source>
        <translation>
            <numerusform>Nada que restaurar: el archivo ya estaba restaurado</numerusform>
            <numerusform>Nada que restaurar: los %Ln archivos ya estaban restaurados</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="688"/>
        <source>(%Ln already restored elsewhere)</source>
        <translation>
            <numerusform>(%Ln ya restaurado en otro lugar)</numerusform>
            <numerusform>(%Ln ya restaurados en otro lugar)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="807"/>
        <source>Nothing deleted: the file was restored meanwhile and is kept</source>
        <translation>
            <numerusform>No se eliminó nada: el archivo se había restaurado mientras tanto y se conserva</numerusform>
            <numerusform>No se eliminó nada: los %Ln archivos se habían restaurado mientras tanto y se conservan</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="801"/>
        <location filename="../../desktop_app/controllers/library_controller.py" line="812"/>
        <location filename="../../desktop_app/controllers/library_controller.py" line="817"/>
        <source>Deleted %Ln file(s) permanently</source>
        <translation>
            <numerusform>Se eliminó %Ln archivo definitivamente</numerusform>
            <numerusform>Se eliminaron %Ln archivos definitivamente</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/controllers/library_controller.py" line="590"/>
        <source>Changes not saved</source>
        <translation>Cambios no guardados</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="634"/>
        <source>Moving %Ln file(s) to the trash…</source>
        <translation>
            <numerusform>Moviendo %Ln archivo a la papelera…</numerusform>
            <numerusform>Moviendo %Ln archivos a la papelera…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="690"/>
        <source>Restoring %Ln file(s)…</source>
        <translation>
            <numerusform>Restaurando %Ln archivo…</numerusform>
            <numerusform>Restaurando %Ln archivos…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="794"/>
        <source>%Ln file(s) went to the trash instead: the storage may still delete them; if it did not, they stay in the trash, where they can be restored.</source>
        <translation>
            <numerusform>%Ln archivo pasó a la papelera en su lugar: el almacenamiento aún puede borrarlo; si no lo hace, queda en la papelera, desde donde se puede restaurar.</numerusform>
            <numerusform>%Ln archivos pasaron a la papelera en su lugar: el almacenamiento aún puede borrarlos; si no lo hace, quedan en la papelera, desde donde se pueden restaurar.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="814"/>
        <source>(%Ln restored meanwhile elsewhere, kept)</source>
        <translation>
            <numerusform>(%Ln restaurado mientras tanto en otro lugar, conservado)</numerusform>
            <numerusform>(%Ln restaurados mientras tanto en otro lugar, conservados)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="832"/>
        <source>Emptying the trash: %1 of %Ln file(s) deleted…</source>
        <translation>
            <numerusform>Vaciando la papelera: %1 de %Ln archivo eliminado…</numerusform>
            <numerusform>Vaciando la papelera: %1 de %Ln archivos eliminados…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="839"/>
        <source>Emptied the trash: %Ln file(s) deleted</source>
        <translation>
            <numerusform>Papelera vaciada: %Ln archivo eliminado</numerusform>
            <numerusform>Papelera vaciada: %Ln archivos eliminados</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="842"/>
        <source>(%Ln restored or deleted elsewhere meanwhile)</source>
        <translation>
            <numerusform>(%Ln restaurado o eliminado mientras tanto en otro lugar)</numerusform>
            <numerusform>(%Ln restaurados o eliminados mientras tanto en otro lugar)</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/controllers/library_controller.py" line="849"/>
        <source>Emptying the trash…</source>
        <translation>Vaciando la papelera…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/controllers/library_controller.py" line="860"/>
        <source>Exported to %1</source>
        <translation>Exportado a %1</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="871"/>
        <source>Exporting: %1 of %Ln file(s)…</source>
        <translation>
            <numerusform>Exportando: %1 de %Ln archivo…</numerusform>
            <numerusform>Exportando: %1 de %Ln archivos…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="878"/>
        <source>Exported %Ln file(s) to %1</source>
        <translation>
            <numerusform>Exportado %Ln archivo a %1</numerusform>
            <numerusform>Exportados %Ln archivos a %1</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="900"/>
        <source>%Ln of %1 file(s) could not be exported to %2:</source>
        <translation>
            <numerusform>No se pudo exportar %Ln de %1 archivos a %2:</numerusform>
            <numerusform>No se pudieron exportar %Ln de %1 archivos a %2:</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="908"/>
        <source>%Ln file(s) exported.</source>
        <translation>
            <numerusform>%Ln archivo exportado.</numerusform>
            <numerusform>%Ln archivos exportados.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="999"/>
        <source>Processing again: %1 of %Ln file(s)…</source>
        <translation>
            <numerusform>Reprocesando: %1 de %Ln archivo…</numerusform>
            <numerusform>Reprocesando: %1 de %Ln archivos…</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/controllers/library_controller.py" line="1010"/>
        <source>Made the thumbnail of %1 again</source>
        <translation>Miniatura de %1 generada de nuevo</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="1016"/>
        <source>Made the thumbnails of %Ln photo(s) again</source>
        <translation>
            <numerusform>Miniatura de %Ln foto generada de nuevo</numerusform>
            <numerusform>Miniaturas de %Ln fotos generadas de nuevo</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="1021"/>
        <source>Queued %Ln job(s) of %1 again</source>
        <translation>
            <numerusform>%Ln trabajo de %1 en cola de nuevo</numerusform>
            <numerusform>%Ln trabajos de %1 en cola de nuevo</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="1027"/>
        <source>Queued the jobs of %Ln video(s) again</source>
        <translation>
            <numerusform>Trabajos de %Ln vídeo en cola de nuevo</numerusform>
            <numerusform>Trabajos de %Ln vídeos en cola de nuevo</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/controllers/library_controller.py" line="1032"/>
        <source>The thumbnail of %1 could not be made again: its original cannot be decoded, and it keeps the one it had</source>
        <translation>No se pudo generar de nuevo la miniatura de %1: su original no se puede decodificar, y conserva la que tenía</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="1039"/>
        <source>The thumbnails of %Ln photo(s) could not be made again: their originals cannot be decoded, and they keep the ones they had</source>
        <translation>
            <numerusform>No se pudo generar de nuevo la miniatura de %Ln foto: su original no se puede decodificar, y conserva la que tenía</numerusform>
            <numerusform>No se pudieron generar de nuevo las miniaturas de %Ln fotos: sus originales no se pueden decodificar, y conservan las que tenían</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/library_controller.py" line="1048"/>
        <source>%Ln file(s) passed over: trashed or deleted meanwhile</source>
        <translation>
            <numerusform>%Ln archivo omitido: se movió a la papelera o se eliminó mientras tanto</numerusform>
            <numerusform>%Ln archivos omitidos: se movieron a la papelera o se eliminaron mientras tanto</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/controllers/library_controller.py" line="1154"/>
        <source>Added athlete %1</source>
        <translation>Deportista añadido: %1</translation>
    </message>
</context>
<context>
    <name>MainStatusBar</name>
    <message>
        <location filename="../../desktop_app/views/status_bar.py" line="174"/>
        <source>Storage: R2 bucket %1</source>
        <translation>Almacenamiento: bucket R2 %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/status_bar.py" line="177"/>
        <source>Storage: local folder</source>
        <translation>Almacenamiento: carpeta local</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/status_bar.py" line="188"/>
        <source>Catalog: SQLite %1</source>
        <translation>Catálogo: SQLite %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/status_bar.py" line="193"/>
        <source>Catalog: PostgreSQL %1</source>
        <translation>Catálogo: PostgreSQL %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/status_bar.py" line="204"/>
        <source>○ Live: library disk out of reach</source>
        <translation>○ En directo: disco de la biblioteca inaccesible</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/status_bar.py" line="206"/>
        <source>The disk holding the library cannot be written. Connect it again; this comes back by itself once it answers.</source>
        <translation>No se puede escribir en el disco que contiene la biblioteca. Conéctalo de nuevo; esto vuelve solo en cuanto responda.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/status_bar.py" line="210"/>
        <source>● Live</source>
        <translation>● En directo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/status_bar.py" line="211"/>
        <source>Changes made elsewhere on this catalog appear at once.</source>
        <translation>Los cambios hechos en otros equipos sobre este catálogo aparecen al momento.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/status_bar.py" line="213"/>
        <source>○ Live: starting</source>
        <translation>○ En directo: iniciando</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/status_bar.py" line="216"/>
        <source>○ Live: disconnected</source>
        <translation>○ En directo: desconectado</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/status_bar.py" line="217"/>
        <source>Changes made elsewhere appear once the catalog is reachable again.</source>
        <translation>Los cambios hechos en otros equipos aparecerán cuando el catálogo vuelva a estar accesible.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/status_bar.py" line="224"/>
        <source>Server: %1</source>
        <translation>Servidor: %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/status_bar.py" line="226"/>
        <source>Server: not running</source>
        <translation>Servidor: no está en marcha</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/status_bar.py" line="228"/>
        <source>Server: stopped</source>
        <translation>Servidor: detenido</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/status_bar.py" line="237"/>
        <source>⚠ Storage: %1 used, above %2</source>
        <translation>⚠ Almacenamiento: %1 en uso, por encima de %2</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/status_bar.py" line="242"/>
        <source>Set by MEDIADESK_STORAGE_WARN_BYTES; see View ▸ Storage.</source>
        <translation>Lo fija MEDIADESK_STORAGE_WARN_BYTES; véase Ver ▸ Almacenamiento.</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/status_bar.py" line="255"/>
        <source>%Ln file(s)</source>
        <translation>
            <numerusform>%Ln archivo</numerusform>
            <numerusform>%Ln archivos</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/status_bar.py" line="260"/>
        <source>%Ln image(s)</source>
        <translation>
            <numerusform>%Ln imagen</numerusform>
            <numerusform>%Ln imágenes</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/status_bar.py" line="261"/>
        <source>%Ln video(s)</source>
        <translation>
            <numerusform>%Ln vídeo</numerusform>
            <numerusform>%Ln vídeos</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="69"/>
        <source>&amp;Import files…</source>
        <translation>&amp;Importar archivos…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="70"/>
        <source>Import &amp;folder…</source>
        <translation>Importar &amp;carpeta…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="71"/>
        <source>&amp;Export…</source>
        <translation>&amp;Exportar…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="72"/>
        <source>&amp;Settings…</source>
        <translation>&amp;Ajustes…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="73"/>
        <source>&amp;Quit</source>
        <translation>&amp;Salir</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="74"/>
        <source>&amp;Rename</source>
        <translation>Cambiar &amp;nombre</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="75"/>
        <source>Move to &amp;trash</source>
        <translation>Mover a la &amp;papelera</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="76"/>
        <source>Re&amp;store</source>
        <translation>Re&amp;staurar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="77"/>
        <source>&amp;Delete permanently</source>
        <translation>Eli&amp;minar definitivamente</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="78"/>
        <source>&amp;Undo move to trash</source>
        <translation>Des&amp;hacer el envío a la papelera</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="79"/>
        <source>&amp;Empty trash…</source>
        <translation>&amp;Vaciar la papelera…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="80"/>
        <source>Select &amp;all</source>
        <translation>Seleccion&amp;ar todo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="81"/>
        <source>&amp;Find</source>
        <translation>&amp;Buscar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="82"/>
        <source>&amp;Preview</source>
        <translation>&amp;Vista previa</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="83"/>
        <source>Re&amp;fresh</source>
        <translation>Actuali&amp;zar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="85"/>
        <source>&amp;Details panel</source>
        <translation>Panel de &amp;detalles</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="86"/>
        <source>Copy &amp;link</source>
        <translation>Copiar en&amp;lace</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="87"/>
        <source>Process a&amp;gain</source>
        <translation>&amp;Reprocesar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="88"/>
        <source>&amp;New athlete…</source>
        <translation>&amp;Nuevo deportista…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="89"/>
        <source>&amp;Rename athlete…</source>
        <translation>Cambiar el nombre del &amp;deportista…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="90"/>
        <source>&amp;About MediaDesk</source>
        <translation>&amp;Acerca de MediaDesk</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="113"/>
        <source>&amp;File</source>
        <translation>&amp;Archivo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="116"/>
        <source>&amp;Edit</source>
        <translation>&amp;Editar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="134"/>
        <source>&amp;View</source>
        <translation>&amp;Ver</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="140"/>
        <source>&amp;Athletes</source>
        <translation>&amp;Deportistas</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/actions.py" line="143"/>
        <source>&amp;Help</source>
        <translation>Ay&amp;uda</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1710"/>
        <source>MediaDesk</source>
        <translation>MediaDesk</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="644"/>
        <source>Server</source>
        <translation>Servidor</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="605"/>
        <source>Sections and athletes</source>
        <translation>Secciones y deportistas</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="623"/>
        <source>Search file names and descriptions (%1)</source>
        <translation>Buscar en nombres de archivo y descripciones (%1)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="668"/>
        <source>&amp;Uploads</source>
        <translation>&amp;Subidas</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="669"/>
        <source>&amp;Server</source>
        <translation>Se&amp;rvidor</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="670"/>
        <source>S&amp;torage</source>
        <translation>&amp;Almacenamiento</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="671"/>
        <source>&amp;Jobs</source>
        <translation>&amp;Trabajos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="779"/>
        <source>Uploaded %1</source>
        <translation>Subido: %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="787"/>
        <source>“%1” is already in the library.</source>
        <translation>«%1» ya está en la biblioteca.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="790"/>
        <source>“%1” is already in the library as “%2”.</source>
        <translation>«%1» ya está en la biblioteca como «%2».</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="875"/>
        <source>Unsaved changes</source>
        <translation>Cambios sin guardar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="876"/>
        <source>Save the changes to “%1”?</source>
        <translation>¿Guardar los cambios de «%1»?</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="880"/>
        <source>If you don&apos;t save them, your changes are lost.</source>
        <translation>Si no los guardas, se perderán tus cambios.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1075"/>
        <source>Filed under %1</source>
        <translation>Se archivarán en %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1078"/>
        <source>Filed under %1, selected in the sidebar. Drop onto another athlete to file them there.</source>
        <translation>Se archivarán en %1, seleccionado en la barra lateral. Suéltalos sobre otro deportista para archivarlos allí.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1083"/>
        <source>Not filed under an athlete. Drop onto an athlete in the sidebar to file them there.</source>
        <translation>No se archivarán en ningún deportista. Suéltalos sobre un deportista de la barra lateral para archivarlos allí.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1099"/>
        <source>Drop to add to the library</source>
        <translation>Suelta para añadir a la biblioteca</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1103"/>
        <source>Drop to add %1 and %2 to the library</source>
        <translation>Suelta para añadir %1 y %2 a la biblioteca</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1104"/>
        <source>%Ln file(s)</source>
        <translation>
            <numerusform>%Ln archivo</numerusform>
            <numerusform>%Ln archivos</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1105"/>
        <source>%Ln folder(s)</source>
        <translation>
            <numerusform>%Ln carpeta</numerusform>
            <numerusform>%Ln carpetas</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1108"/>
        <source>Drop to add %Ln folder(s) to the library</source>
        <translation>
            <numerusform>Suelta para añadir %Ln carpeta a la biblioteca</numerusform>
            <numerusform>Suelta para añadir %Ln carpetas a la biblioteca</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1109"/>
        <source>Drop to add %Ln file(s) to the library</source>
        <translation>
            <numerusform>Suelta para añadir %Ln archivo a la biblioteca</numerusform>
            <numerusform>Suelta para añadir %Ln archivos a la biblioteca</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1225"/>
        <source>%Ln file(s) still on %1, new files going to %2: Settings ▸ Save moves them (or: mediadesk storage migrate --to %3)</source>
        <translation>
            <numerusform>%Ln archivo sigue en %1, y los nuevos van a %2: Ajustes ▸ Guardar lo mueve (o: mediadesk storage migrate --to %3)</numerusform>
            <numerusform>%Ln archivos siguen en %1, y los nuevos van a %2: Ajustes ▸ Guardar los mueve (o: mediadesk storage migrate --to %3)</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1258"/>
        <source>Import photos and videos</source>
        <translation>Importar fotos y vídeos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1261"/>
        <source>Photos and videos (*.jpg *.jpeg *.png *.webp *.gif *.mp4 *.mov *.avi *.wmv *.webm);;All files (*)</source>
        <translation>Fotos y vídeos (*.jpg *.jpeg *.png *.webp *.gif *.mp4 *.mov *.avi *.wmv *.webm);;Todos los archivos (*)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1272"/>
        <source>Import a folder</source>
        <translation>Importar una carpeta</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1292"/>
        <source>The preview is not available: %1</source>
        <translation>La vista previa no está disponible: %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1337"/>
        <source>Link copied to the clipboard</source>
        <translation>Enlace copiado al portapapeles</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1342"/>
        <source>Selected the %1 files loaded of the %2 in this view: Select all loads at most %3 more. To act on all of them, narrow the view with a search, a section or an athlete.</source>
        <translation>Seleccionados los %1 archivos cargados de los %2 de esta vista: Seleccionar todo carga como mucho %3 más. Para actuar sobre todos, acota la vista con una búsqueda, una sección o un deportista.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1365"/>
        <source>Copy link</source>
        <translation>Copiar enlace</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1366"/>
        <source>The embedded server must be running for links to work.</source>
        <translation>El servidor integrado debe estar en marcha para que los enlaces funcionen.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1372"/>
        <source>Links to files in the local folder open through MediaDesk&apos;s embedded server, which is stopped. Start it and copy the link to “%1”?</source>
        <translation>Los enlaces a los archivos de la carpeta local se abren a través del servidor integrado de MediaDesk, que está detenido. ¿Iniciarlo y copiar el enlace de «%1»?</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1378"/>
        <source>Start the server and copy</source>
        <translation>Iniciar el servidor y copiar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1392"/>
        <source>%1 See View ▸ Server.</source>
        <translation>%1 Véase Ver ▸ Servidor.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1417"/>
        <source>Links to files in the local folder work only while the embedded server is running. It is stopped: Copy link offers to start it.</source>
        <translation>Los enlaces a los archivos de la carpeta local solo funcionan mientras el servidor integrado está en marcha. Está detenido: Copiar enlace ofrece iniciarlo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1436"/>
        <source>Export</source>
        <translation>Exportar</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1446"/>
        <source>Export %Ln files to a folder</source>
        <translation>
            <numerusform>Exportar %Ln archivo a una carpeta</numerusform>
            <numerusform>Exportar %Ln archivos a una carpeta</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1500"/>
        <location filename="../../desktop_app/views/main_window.py" line="1511"/>
        <source>Move to trash</source>
        <translation>Mover a la papelera</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1501"/>
        <source>Move %Ln selected files to the trash?</source>
        <translation>
            <numerusform>¿Mover %Ln archivo seleccionado a la papelera?</numerusform>
            <numerusform>¿Mover los %Ln archivos seleccionados a la papelera?</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1506"/>
        <source>%Ln of them are not on screen:</source>
        <translation>
            <numerusform>%Ln de ellos no está a la vista:</numerusform>
            <numerusform>%Ln de ellos no están a la vista:</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1530"/>
        <source>Delete %Ln file(s) permanently?</source>
        <translation>
            <numerusform>¿Eliminar %Ln archivo definitivamente?</numerusform>
            <numerusform>¿Eliminar %Ln archivos definitivamente?</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1533"/>
        <location filename="../../desktop_app/views/main_window.py" line="1536"/>
        <source>Delete permanently</source>
        <translation>Eliminar definitivamente</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1549"/>
        <location filename="../../desktop_app/views/main_window.py" line="1552"/>
        <source>Empty trash</source>
        <translation>Vaciar la papelera</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1550"/>
        <source>Permanently delete %Ln file(s) in the trash?</source>
        <translation>
            <numerusform>¿Eliminar definitivamente %Ln archivo de la papelera?</numerusform>
            <numerusform>¿Eliminar definitivamente los %Ln archivos de la papelera?</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1593"/>
        <source>New athlete</source>
        <translation>Nuevo deportista</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1593"/>
        <location filename="../../desktop_app/views/main_window.py" line="1616"/>
        <source>Name:</source>
        <translation>Nombre:</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1616"/>
        <location filename="../../desktop_app/views/main_window.py" line="1628"/>
        <source>Rename athlete</source>
        <translation>Cambiar el nombre del deportista</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1633"/>
        <source>Rename it to “%1” anyway?</source>
        <translation>¿Cambiarle el nombre a «%1» de todos modos?</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1635"/>
        <source>Rename anyway</source>
        <translation>Cambiar el nombre de todos modos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1637"/>
        <source>Keep “%1”</source>
        <translation>Mantener «%1»</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1688"/>
        <source>Settings saved. Restart MediaDesk to apply the storage change.</source>
        <translation>Ajustes guardados. Reinicia MediaDesk para aplicar el cambio de almacenamiento.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1690"/>
        <source>Settings saved. Restart MediaDesk to apply the language change.</source>
        <translation>Ajustes guardados. Reinicia MediaDesk para aplicar el cambio de idioma.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1692"/>
        <source>Settings saved.</source>
        <translation>Ajustes guardados.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1906"/>
        <source>Moving files</source>
        <translation>Moviendo archivos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1909"/>
        <source>Files are still being moved to the new storage (%1). If you quit now, the move stops after the current file; the files not moved yet stay readable where they are, and Settings ▸ Save continues the move. Quit now?</source>
        <translation>Todavía se están moviendo archivos al nuevo almacenamiento (%1). Si sales ahora, el traslado se detiene tras el archivo actual; los archivos aún sin mover siguen legibles donde están, y Ajustes ▸ Guardar continúa el traslado. ¿Salir ahora?</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1685"/>
        <source>Settings saved. Restart MediaDesk to apply the storage and language changes.</source>
        <translation>Ajustes guardados. Reinicia MediaDesk para aplicar los cambios de almacenamiento e idioma.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1697"/>
        <source>No files needed moving: none are left on the old storage.</source>
        <translation>No había archivos que mover: no queda ninguno en el almacenamiento anterior.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1715"/>
        <source>About MediaDesk</source>
        <translation>Acerca de MediaDesk</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1719"/>
        <source>MediaDesk manages the photos and videos of your athletes, on this computer or in Cloudflare R2, and shares them through a small HTTP server.</source>
        <translation>MediaDesk gestiona las fotos y los vídeos de tus deportistas, en este ordenador o en Cloudflare R2, y los comparte mediante un pequeño servidor HTTP.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1866"/>
        <source>Uploads in progress</source>
        <translation>Subidas en curso</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/main_window.py" line="1868"/>
        <source>Some files are still uploading. If you quit now, they will continue where they left off the next time you open MediaDesk. Quit now?</source>
        <translation>Algunos archivos todavía se están subiendo. Si sales ahora, seguirán donde se quedaron la próxima vez que abras MediaDesk. ¿Salir ahora?</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/main_window.py" line="1876"/>
        <source>%Ln file(s) left to upload.</source>
        <translation>
            <numerusform>Queda %Ln archivo por subir.</numerusform>
            <numerusform>Quedan %Ln archivos por subir.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MigrationProgress</name>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="137"/>
        <source>Moving files</source>
        <translation>Moviendo archivos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="138"/>
        <source>Preparing…</source>
        <translation>Preparando…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="139"/>
        <source>Stop</source>
        <translation>Detener</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="186"/>
        <source>%1 of %Ln file(s) done (%2 not moved)</source>
        <translation>
            <numerusform>%1 de %Ln archivo procesado (%2 sin mover)</numerusform>
            <numerusform>%1 de %Ln archivos procesados (%2 sin mover)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="190"/>
        <source>Moved %1 of %Ln file(s)</source>
        <translation>
            <numerusform>Movido %1 de %Ln archivo</numerusform>
            <numerusform>Movidos %1 de %Ln archivos</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="201"/>
        <source>Removing the old copies… %Ln copies left; all removed in %1 s</source>
        <translation>
            <numerusform>Eliminando las copias antiguas… queda %Ln copia; se borrará en %1 s</numerusform>
            <numerusform>Eliminando las copias antiguas… quedan %Ln copias; se borrarán todas en %1 s</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="225"/>
        <source>All files are in the new storage (%Ln moved).</source>
        <translation>
            <numerusform>Todos los archivos están en el nuevo almacenamiento (%Ln movido).</numerusform>
            <numerusform>Todos los archivos están en el nuevo almacenamiento (%Ln movidos).</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="228"/>
        <source>The move stopped: %1
Run it again to continue.</source>
        <translation>El traslado se detuvo: %1
Vuelva a iniciarlo para continuar.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="221"/>
        <source>Close</source>
        <translation>Cerrar</translation>
    </message>
</context>
<context>
    <name>MoveReport</name>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="264"/>
        <source>Moving files</source>
        <translation>Moviendo archivos</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="301"/>
        <source>The move was stopped after %Ln file(s) had been moved to %1.</source>
        <translation>
            <numerusform>El traslado se detuvo después de mover %Ln archivo a %1.</numerusform>
            <numerusform>El traslado se detuvo después de mover %Ln archivos a %1.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="309"/>
        <source>The other files were not moved: they stay readable where they are. Run the move again to continue with them.</source>
        <translation>Los demás archivos no se movieron: siguen disponibles donde estaban. Vuelve a iniciar el traslado para continuar con ellos.</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="316"/>
        <source>%Ln file(s) were not moved: they stay readable where they are. Run the move again to continue with them.</source>
        <translation>
            <numerusform>%Ln archivo no se movió: sigue disponible donde estaba. Vuelve a iniciar el traslado para continuar con él.</numerusform>
            <numerusform>%Ln archivos no se movieron: siguen disponibles donde estaban. Vuelve a iniciar el traslado para continuar con ellos.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="324"/>
        <source>%Ln file(s) were moved to %1.</source>
        <translation>
            <numerusform>Se movió %Ln archivo a %1.</numerusform>
            <numerusform>Se movieron %Ln archivos a %1.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="329"/>
        <source>%Ln file(s) could not be moved; they stay readable where they are.</source>
        <translation>
            <numerusform>%Ln archivo no se pudo mover; sigue disponible donde estaba.</numerusform>
            <numerusform>%Ln archivos no se pudieron mover; siguen disponibles donde estaban.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="337"/>
        <source>%Ln file(s) changed during the move (renamed or deleted) and were left for the next move.</source>
        <translation>
            <numerusform>%Ln archivo cambió durante el traslado (se renombró o se eliminó) y queda para el próximo traslado.</numerusform>
            <numerusform>%Ln archivos cambiaron durante el traslado (se renombraron o se eliminaron) y quedan para el próximo traslado.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="351"/>
        <source>Run the move again to retry them.</source>
        <translation>
            <numerusform>Vuelve a iniciar el traslado para reintentarlo.</numerusform>
            <numerusform>Vuelve a iniciar el traslado para reintentarlos.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="353"/>
        <source>Running the move again retries the files that met a passing fault; the others first need what is said for them above.</source>
        <translation>Al volver a iniciar el traslado se reintentan los archivos que sufrieron un fallo pasajero; los demás necesitan antes lo que se indica para ellos arriba.</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="361"/>
        <source>%1 and %Ln more</source>
        <translation>
            <numerusform>%1 y %Ln más</numerusform>
            <numerusform>%1 y %Ln más</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="362"/>
        <source>%Ln file(s): %1</source>
        <translation>
            <numerusform>%Ln archivo: %1</numerusform>
            <numerusform>%Ln archivos: %1</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="367"/>
        <source>file %1 (no longer in the library)</source>
        <translation>archivo %1 (ya no está en la biblioteca)</translation>
    </message>
</context>
<context>
    <name>PlayerControls</name>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="64"/>
        <location filename="../../desktop_app/preview/player_controls.py" line="143"/>
        <source>Play (Space)</source>
        <translation>Reproducir (Espacio)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="64"/>
        <location filename="../../desktop_app/preview/player_controls.py" line="144"/>
        <source>Play</source>
        <translation>Reproducir</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="66"/>
        <source>Previous frame (,)</source>
        <translation>Fotograma anterior (,)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="66"/>
        <source>Previous frame</source>
        <translation>Fotograma anterior</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="69"/>
        <source>Next frame (.)</source>
        <translation>Fotograma siguiente (.)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="69"/>
        <source>Next frame</source>
        <translation>Fotograma siguiente</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="77"/>
        <source>Position: click to jump, ←/→ 5 s, J/K/L back, pause, play faster</source>
        <translation>Posición: clic para saltar, ←/→ 5 s, J/K/L atrás, pausa, reproducir más rápido</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="79"/>
        <source>Position</source>
        <translation>Posición</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="80"/>
        <location filename="../../desktop_app/preview/player_controls.py" line="149"/>
        <source>Mute (M)</source>
        <translation>Silenciar (M)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="80"/>
        <location filename="../../desktop_app/preview/player_controls.py" line="150"/>
        <source>Mute</source>
        <translation>Silenciar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="86"/>
        <source>Volume (↑/↓)</source>
        <translation>Volumen (↑/↓)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="87"/>
        <source>Volume</source>
        <translation>Volumen</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="89"/>
        <location filename="../../desktop_app/preview/player_controls.py" line="156"/>
        <source>Full screen (F)</source>
        <translation>Pantalla completa (F)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="89"/>
        <location filename="../../desktop_app/preview/player_controls.py" line="159"/>
        <source>Full screen</source>
        <translation>Pantalla completa</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="139"/>
        <source>Pause (Space)</source>
        <translation>Pausa (Espacio)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="140"/>
        <source>Pause</source>
        <translation>Pausa</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="149"/>
        <source>Unmute (M)</source>
        <translation>Activar sonido (M)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="150"/>
        <source>Unmute</source>
        <translation>Activar sonido</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="156"/>
        <source>Leave full screen (Esc)</source>
        <translation>Salir de pantalla completa (Esc)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="159"/>
        <source>Leave full screen</source>
        <translation>Salir de pantalla completa</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/player_controls.py" line="185"/>
        <source>%1 of %2</source>
        <translation>%1 de %2</translation>
    </message>
</context>
<context>
    <name>PreviewDialog</name>
    <message>
        <location filename="../../desktop_app/preview/dialog.py" line="49"/>
        <source>Previous file</source>
        <translation>Archivo anterior</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/dialog.py" line="52"/>
        <source>Next file</source>
        <translation>Archivo siguiente</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/dialog.py" line="81"/>
        <source>Quit</source>
        <translation>Salir</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/dialog.py" line="115"/>
        <source>This kind of file cannot be previewed.</source>
        <translation>Este tipo de archivo no tiene vista previa.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/dialog.py" line="119"/>
        <source>unknown reason</source>
        <translation>motivo desconocido</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/dialog.py" line="122"/>
        <source>Video preview needs Qt Multimedia, which is not available: {reason}</source>
        <translation>La vista previa de vídeo necesita Qt Multimedia, que no está disponible: {reason}</translation>
    </message>
</context>
<context>
    <name>ProcessingLine</name>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="208"/>
        <source>Processing: not queued</source>
        <translation>Procesamiento: sin trabajos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="213"/>
        <source>Processing: %1 (%2 %)</source>
        <translation>Procesamiento: %1 (%2 %)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="228"/>
        <source>Why: %1</source>
        <translation>Motivo: %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/jobs_dock.py" line="236"/>
        <source>Renditions: %1</source>
        <translation>Versiones: %1</translation>
    </message>
</context>
<context>
    <name>QFileDialog</name>
    <message>
        <location filename="../../desktop_app/qt_strings.py" line="13"/>
        <source>&amp;Look in:</source>
        <translation>&amp;Buscar en:</translation>
    </message>
    <message>
        <location filename="../../desktop_app/qt_strings.py" line="14"/>
        <source>Files of &amp;type:</source>
        <translation>Archivos de &amp;tipo:</translation>
    </message>
</context>
<context>
    <name>ServerController</name>
    <message>
        <location filename="../../desktop_app/controllers/server_controller.py" line="117"/>
        <source>The server could not start. %1</source>
        <translation>El servidor no pudo arrancar. %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/controllers/server_controller.py" line="138"/>
        <source>The server did not stop cleanly. %1</source>
        <translation>El servidor no se detuvo correctamente. %1</translation>
    </message>
</context>
<context>
    <name>ServerPanel</name>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="177"/>
        <source>Embedded server</source>
        <translation>Servidor integrado</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="186"/>
        <source>any free port</source>
        <translation>cualquier puerto libre</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="221"/>
        <source>State</source>
        <translation>Estado</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="206"/>
        <source>127.0.0.1 serves this computer only; 0.0.0.0 serves your network. Clients need a token.</source>
        <translation>127.0.0.1 solo sirve a este ordenador; 0.0.0.0 sirve a tu red. Los clientes necesitan un token.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="91"/>
        <source># No files yet: upload one and its download command shows here.</source>
        <translation># Aún no hay archivos: sube uno y aquí aparecerá su orden de descarga.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="188"/>
        <source>Host</source>
        <translation>Dirección</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="189"/>
        <source>Port</source>
        <translation>Puerto</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="217"/>
        <source>API tokens</source>
        <translation>Tokens de la API</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="221"/>
        <source>Name</source>
        <translation>Nombre</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="221"/>
        <location filename="../../desktop_app/views/server_panel.py" line="248"/>
        <source>Scope</source>
        <translation>Alcance</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="221"/>
        <source>Created</source>
        <translation>Creado</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="245"/>
        <source>Create token…</source>
        <translation>Crear token…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="246"/>
        <location filename="../../desktop_app/views/server_panel.py" line="532"/>
        <source>Revoke</source>
        <translation>Revocar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="267"/>
        <source>Examples</source>
        <translation>Ejemplos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="284"/>
        <source>$TOKEN: any API token. $UPLOAD_TOKEN: a token of scope upload or admin (Create token… makes read tokens unless another scope is chosen).</source>
        <translation>$TOKEN: cualquier token de la API. $UPLOAD_TOKEN: un token de alcance subida o administración (Crear token… hace tokens de lectura si no se elige otro alcance).</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="299"/>
        <source>Only a token created in this session can be included: its secret is shown once. Otherwise the commands read it from $TOKEN.</source>
        <translation>Solo se puede incluir un token creado en esta sesión: su secreto se muestra una sola vez. Si no, las órdenes lo leen de $TOKEN.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="684"/>
        <source>MediaDesk app previews (this session)</source>
        <translation>Vistas previas de la app MediaDesk (esta sesión)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="687"/>
        <source>MediaDesk app previews (another session, %1)</source>
        <translation>Vistas previas de la app MediaDesk (otra sesión, %1)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="688"/>
        <source>MediaDesk app previews (earlier session)</source>
        <translation>Vistas previas de la app MediaDesk (sesión anterior)</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/server_panel.py" line="432"/>
        <source>Copied %Ln command(s) with the token “%1” in them. Anyone who sees them can use it.</source>
        <translation>
            <numerusform>Copiada %Ln orden con el token «%1». Cualquiera que la vea puede usarlo.</numerusform>
            <numerusform>Copiadas %Ln órdenes con el token «%1». Cualquiera que las vea puede usarlo.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="455"/>
        <source>read</source>
        <translation>lectura</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="456"/>
        <source>upload</source>
        <translation>subida</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="457"/>
        <source>admin</source>
        <translation>administración</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="455"/>
        <source>read: list, view and download</source>
        <translation>lectura: listar, ver y descargar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="289"/>
        <source>C&amp;opy commands</source>
        <translation>C&amp;opiar comandos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="295"/>
        <source>Copy with the &amp;token</source>
        <translation>Copiar con el &amp;token</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="341"/>
        <source># Start the server: commands for its address show here.</source>
        <translation># Inicia el servidor: aquí aparecerán las órdenes para su dirección.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="439"/>
        <source>“%1” cannot upload: the upload command reads a token of scope upload from $UPLOAD_TOKEN.</source>
        <translation>“%1” no puede subir: la orden de subida lee un token de alcance subida de $UPLOAD_TOKEN.</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/server_panel.py" line="444"/>
        <source>Copied %Ln command(s) without a token: set TOKEN=… and UPLOAD_TOKEN=… first.</source>
        <translation>
            <numerusform>Copiada %Ln orden sin token: define antes TOKEN=… y UPLOAD_TOKEN=….</numerusform>
            <numerusform>Copiadas %Ln órdenes sin token: define antes TOKEN=… y UPLOAD_TOKEN=….</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="456"/>
        <source>upload: read and upload</source>
        <translation>subida: leer y subir</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="457"/>
        <source>admin: everything</source>
        <translation>administración: todo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="496"/>
        <source>New API token</source>
        <translation>Nuevo token de la API</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="496"/>
        <source>Name (who or what uses it):</source>
        <translation>Nombre (quién o qué lo usa):</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="527"/>
        <source>Revoke token</source>
        <translation>Revocar token</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="528"/>
        <source>Revoke the token “%1”? Programs using it stop working at once.</source>
        <translation>¿Revocar el token «%1»? Los programas que lo usan dejarán de funcionar de inmediato.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="538"/>
        <source>Stop</source>
        <translation>Detener</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="538"/>
        <source>Start</source>
        <translation>Iniciar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="554"/>
        <source>Running at %1</source>
        <translation>En marcha en %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="562"/>
        <source>Stopped</source>
        <translation>Detenido</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="601"/>
        <source>Starting…</source>
        <translation>Iniciando…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="617"/>
        <source>active</source>
        <translation>activo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="617"/>
        <source>revoked</source>
        <translation>revocado</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="620"/>
        <source>revoked %1</source>
        <translation>revocado el %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="696"/>
        <source>Copy with the &amp;token “%1”</source>
        <translation>Copiar con el &amp;token «%1»</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="698"/>
        <source>Token created</source>
        <translation>Token creado</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/server_panel.py" line="702"/>
        <source>The token “%1” was created and copied to the clipboard. It is shown only once:</source>
        <translation>Se creó el token «%1» y se copió al portapapeles. Solo se muestra una vez:</translation>
    </message>
</context>
<context>
    <name>SettingsController</name>
    <message>
        <location filename="../../desktop_app/controllers/settings_controller.py" line="215"/>
        <source>Connection works: %1</source>
        <translation>La conexión funciona: %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/controllers/settings_controller.py" line="225"/>
        <source>The endpoint cannot be reached. Check the endpoint URL and the network.</source>
        <translation>No se puede conectar con el endpoint. Revisa la URL del endpoint y la red.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/controllers/settings_controller.py" line="228"/>
        <source>The endpoint refused the request. Check the endpoint URL and the region.</source>
        <translation>El endpoint rechazó la solicitud. Revisa la URL del endpoint y la región.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/controllers/settings_controller.py" line="230"/>
        <source>The access key ID or the secret access key is wrong.</source>
        <translation>El ID de la clave de acceso o la clave de acceso secreta no son correctos.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/controllers/settings_controller.py" line="232"/>
        <source>The keys are valid but may not use this bucket. Check their permissions.</source>
        <translation>Las claves son válidas, pero no tienen permiso para usar este bucket. Revisa sus permisos.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/controllers/settings_controller.py" line="235"/>
        <source>Access denied. Check the keys and their permissions on this bucket.</source>
        <translation>Acceso denegado. Revisa las claves y sus permisos sobre este bucket.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/controllers/settings_controller.py" line="238"/>
        <source>The server answered, but the bucket does not exist. Check the bucket name.</source>
        <translation>El servidor respondió, pero el bucket no existe. Revisa el nombre del bucket.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/controllers/settings_controller.py" line="251"/>
        <source>R2 bucket %1 at %2</source>
        <translation>bucket R2 %1 en %2</translation>
    </message>
    <message>
        <location filename="../../desktop_app/controllers/settings_controller.py" line="255"/>
        <source>local folder %1</source>
        <translation>carpeta local %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="39"/>
        <source>Cloudflare R2</source>
        <translation>Cloudflare R2</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="40"/>
        <source>this computer</source>
        <translation>este equipo</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="79"/>
        <location filename="../../desktop_app/views/settings_dialog.py" line="96"/>
        <source>Settings</source>
        <translation>Ajustes</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="151"/>
        <source>Storage</source>
        <translation>Almacenamiento</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="154"/>
        <source>Local folder</source>
        <translation>Carpeta local</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="155"/>
        <source>Cloudflare R2 (or S3)</source>
        <translation>Cloudflare R2 (o S3)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="168"/>
        <source>Test connection</source>
        <translation>Probar la conexión</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="183"/>
        <source>Move the old files…</source>
        <translation>Mover los archivos antiguos…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="187"/>
        <source>Saves these settings and offers to move the files you chose to keep reading from the old storage.</source>
        <translation>Guarda estos ajustes y ofrece mover los archivos que elegiste seguir leyendo desde el almacenamiento antiguo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="205"/>
        <source>Default folder of your user account</source>
        <translation>Carpeta predeterminada de tu cuenta de usuario</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="206"/>
        <source>Browse…</source>
        <translation>Examinar…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="204"/>
        <location filename="../../desktop_app/views/settings_dialog.py" line="210"/>
        <location filename="../../desktop_app/views/settings_dialog.py" line="570"/>
        <source>Data folder</source>
        <translation>Carpeta de datos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="228"/>
        <source>Endpoint URL</source>
        <translation>URL del endpoint</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="229"/>
        <source>Bucket</source>
        <translation>Bucket</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="230"/>
        <source>Access key ID</source>
        <translation>ID de clave de acceso</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="231"/>
        <source>Secret access key</source>
        <translation>Clave de acceso secreta</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="232"/>
        <source>Public domain (optional)</source>
        <translation>Dominio público (opcional)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="233"/>
        <source>Region</source>
        <translation>Región</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="240"/>
        <source>Limits</source>
        <translation>Límites</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="247"/>
        <source> s</source>
        <translation> s</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="248"/>
        <source>Maximum file size</source>
        <translation>Tamaño máximo de archivo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="249"/>
        <source>Signed link lifetime</source>
        <translation>Validez de los enlaces firmados</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="255"/>
        <location filename="../../desktop_app/views/settings_dialog.py" line="262"/>
        <source> days</source>
        <translation> días</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="257"/>
        <source>Files in the trash are deleted for good this many days after they went in</source>
        <translation>Los archivos de la papelera se eliminan definitivamente tantos días después de enviarse a ella</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="259"/>
        <source>Keep trashed files</source>
        <translation>Conservar la papelera</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="263"/>
        <source>Forever</source>
        <translation>Siempre</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="266"/>
        <source>The audit log of the API (who uploaded, read and deleted what) is kept this long</source>
        <translation>El registro de auditoría de la API (quién subió, leyó o eliminó qué) se conserva este tiempo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="269"/>
        <source>Keep the audit log</source>
        <translation>Conservar el registro de auditoría</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="272"/>
        <source> per minute</source>
        <translation> por minuto</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="273"/>
        <source>No limit</source>
        <translation>Sin límite</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="274"/>
        <source>Uploads each API token (or address) may make</source>
        <translation>Subidas que puede hacer cada token de la API (o dirección)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="275"/>
        <source>API upload limit</source>
        <translation>Límite de subidas por la API</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="281"/>
        <source>Files bigger than this are sent in parts: a pause, closing MediaDesk or a network outage resumes from the last part instead of from the start</source>
        <translation>Los archivos más grandes se envían por partes: tras una pausa, el cierre de MediaDesk o un corte de red se reanudan desde la última parte en lugar de desde el principio</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="285"/>
        <source>Upload in parts above</source>
        <translation>Subir por partes a partir de</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="289"/>
        <source>Accepted images</source>
        <translation>Imágenes aceptadas</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="290"/>
        <source>Accepted videos</source>
        <translation>Vídeos aceptados</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="303"/>
        <source>Embedded server</source>
        <translation>Servidor integrado</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="308"/>
        <source>Start the server with MediaDesk</source>
        <translation>Iniciar el servidor con MediaDesk</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="309"/>
        <source>Host</source>
        <translation>Dirección</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="310"/>
        <source>Port</source>
        <translation>Puerto</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="314"/>
        <source>127.0.0.1 serves this computer only; 0.0.0.0 serves the network. Host and port apply the next time the server starts.</source>
        <translation>127.0.0.1 solo sirve a este ordenador; 0.0.0.0 sirve a tu red. La dirección y el puerto se aplican la próxima vez que arranque el servidor.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="325"/>
        <source>Language</source>
        <translation>Idioma</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="328"/>
        <source>System language</source>
        <translation>Idioma del sistema</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="332"/>
        <source>Interface language</source>
        <translation>Idioma de la interfaz</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="405"/>
        <source>Set by %1</source>
        <translation>Fijado por %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="413"/>
        <source>Greyed-out fields are set by environment variables and cannot be changed here: %1</source>
        <translation>Los campos en gris los fijan variables de entorno y no se pueden cambiar aquí: %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="420"/>
        <source>The data folder was given with --data-dir when MediaDesk was started: it cannot be changed here.</source>
        <translation>La carpeta de datos se indicó con --data-dir al iniciar MediaDesk: no se puede cambiar aquí.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="438"/>
        <source>English</source>
        <translation>inglés</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="438"/>
        <source>Spanish</source>
        <translation>español</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="440"/>
        <source>This window is in %1 because MediaDesk was started with --language %2.</source>
        <translation>Esta ventana está en %1 porque MediaDesk se inició con --language %2.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="443"/>
        <source>This window is in %1 because MediaDesk was started with --language %2. The language chosen here applies when MediaDesk starts without --language.</source>
        <translation>Esta ventana está en %1 porque MediaDesk se inició con --language %2. El idioma elegido aquí se aplica cuando MediaDesk se inicia sin --language.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="607"/>
        <source>Testing…</source>
        <translation>Probando…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="678"/>
        <source>Restart MediaDesk after saving to apply the storage and language changes.</source>
        <translation>Reinicia MediaDesk después de guardar para aplicar los cambios de almacenamiento e idioma.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="681"/>
        <source>Restart MediaDesk after saving to apply the storage change.</source>
        <translation>Reinicia MediaDesk después de guardar para aplicar el cambio de almacenamiento.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="683"/>
        <source>Restart MediaDesk after saving to apply the language change.</source>
        <translation>Reinicia MediaDesk después de guardar para aplicar el cambio de idioma.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="769"/>
        <source>Settings not saved</source>
        <translation>Ajustes no guardados</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/settings_dialog.py" line="776"/>
        <source>No files are left on the old storage.</source>
        <translation>No queda ningún archivo en el almacenamiento anterior.</translation>
    </message>
</context>
<context>
    <name>SidebarModel</name>
    <message>
        <location filename="../../desktop_app/models/sidebar_model.py" line="58"/>
        <source>Section</source>
        <translation>Sección</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/sidebar_model.py" line="58"/>
        <source>Files</source>
        <translation>Archivos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/sidebar_model.py" line="59"/>
        <source>Library</source>
        <translation>Biblioteca</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/sidebar_model.py" line="60"/>
        <source>Athletes</source>
        <translation>Deportistas</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/sidebar_model.py" line="62"/>
        <source>All files</source>
        <translation>Todos los archivos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/sidebar_model.py" line="63"/>
        <source>Images</source>
        <translation>Imágenes</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/sidebar_model.py" line="64"/>
        <source>Videos</source>
        <translation>Vídeos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/sidebar_model.py" line="65"/>
        <source>Public</source>
        <translation>Públicos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/sidebar_model.py" line="66"/>
        <source>Trash</source>
        <translation>Papelera</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/models/sidebar_model.py" line="95"/>
        <source>%Ln file(s)</source>
        <translation>
            <numerusform>%Ln archivo</numerusform>
            <numerusform>%Ln archivos</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/sidebar_model.py" line="112"/>
        <source>Add an athlete…</source>
        <translation>Añadir un deportista…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/sidebar_model.py" line="116"/>
        <source>Athletes group the photos and videos of one person. Click here or press Ctrl+N to add the first one.</source>
        <translation>Un deportista agrupa las fotos y los vídeos de una persona. Haz clic aquí o pulsa Ctrl+N para añadir el primero.</translation>
    </message>
</context>
<context>
    <name>Startup</name>
    <message>
        <location filename="../../desktop_app/app.py" line="164"/>
        <source>Settings file: %1</source>
        <translation>Archivo de ajustes: %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/app.py" line="236"/>
        <source>Upgrading the library for this version of MediaDesk (once).</source>
        <translation>Actualizando la biblioteca para esta versión de MediaDesk (solo esta vez).</translation>
    </message>
    <message>
        <location filename="../../desktop_app/app.py" line="239"/>
        <source>A big library takes a few minutes — keep MediaDesk open.</source>
        <translation>Una biblioteca grande tarda unos minutos: mantén MediaDesk abierto.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/app.py" line="261"/>
        <source>Opening the library…</source>
        <translation>Abriendo la biblioteca…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/app.py" line="384"/>
        <source>MediaDesk cannot use its data folder.</source>
        <translation>MediaDesk no puede usar su carpeta de datos.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/app.py" line="386"/>
        <source>MediaDesk cannot start because a setting is not valid.</source>
        <translation>MediaDesk no puede arrancar porque un ajuste no es válido.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/app.py" line="402"/>
        <source>MediaDesk cannot open its library.</source>
        <translation>MediaDesk no puede abrir su biblioteca.</translation>
    </message>
</context>
<context>
    <name>StorageProblemBar</name>
    <message>
        <location filename="../../desktop_app/views/storage_banner.py" line="30"/>
        <source>R2 storage cannot be used: %1 missing. The catalog can be browsed, but files cannot be opened or added. Enter them in Settings (keys given only in the environment are not saved).</source>
        <translation>El almacenamiento R2 no se puede usar; falta: %1. Puedes recorrer el catálogo, pero no abrir ni añadir archivos. Escríbelos en Ajustes (las claves dadas solo en el entorno no se guardan).</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_banner.py" line="40"/>
        <source>Open Settings…</source>
        <translation>Abrir Ajustes…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_banner.py" line="46"/>
        <source>The R2 settings are saved. Restart MediaDesk to use the R2 storage.</source>
        <translation>Los ajustes de R2 están guardados. Reinicia MediaDesk para usar el almacenamiento R2.</translation>
    </message>
</context>
<context>
    <name>StorageSwitchDialog</name>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="69"/>
        <source>Switch storage</source>
        <translation>Cambiar de almacenamiento</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="71"/>
        <source>%Ln file(s) are stored on %1. New files will be stored on %2. What should happen to the files already there?</source>
        <translation>
            <numerusform>%Ln archivo está guardado en %1. Los archivos nuevos se guardarán en %2. ¿Qué hacemos con el que ya está allí?</numerusform>
            <numerusform>%Ln archivos están guardados en %1. Los archivos nuevos se guardarán en %2. ¿Qué hacemos con los que ya están allí?</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="76"/>
        <source>Move my files to the new storage (recommended)</source>
        <translation>Mover mis archivos al nuevo almacenamiento (recomendado)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="87"/>
        <source>Runs in the background. Each file is copied, checked against its SHA-256 fingerprint and only then removed from the old storage. You can stop and continue later.</source>
        <translation>Se hace en segundo plano. Cada archivo se copia, se comprueba con su huella SHA-256 y solo entonces se borra del almacenamiento anterior. Puedes detenerlo y continuar más tarde.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="77"/>
        <source>Keep reading old files from where they are</source>
        <translation>Seguir leyendo los archivos antiguos desde donde están</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="60"/>
        <source>Files still to move</source>
        <translation>Archivos por mover</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_switch.py" line="62"/>
        <source>%Ln file(s) are still on %1, not on %2 where new files are stored. Move them now?</source>
        <translation>
            <numerusform>%Ln archivo sigue en %1, no en %2, donde se guardan los archivos nuevos. ¿Moverlo ahora?</numerusform>
            <numerusform>%Ln archivos siguen en %1, no en %2, donde se guardan los archivos nuevos. ¿Moverlos ahora?</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="66"/>
        <source>Move them to %1 now (recommended)</source>
        <translation>Moverlos ahora a %1 (recomendado)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="67"/>
        <source>Leave them where they are for now</source>
        <translation>Dejarlos donde están por ahora</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="96"/>
        <source>Nothing is copied. Old files stay readable from %1 as long as it stays reachable with the current settings.</source>
        <translation>No se copia nada. Los archivos antiguos se siguen leyendo desde %1 mientras sea accesible con los ajustes actuales.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="100"/>
        <source>You can move them later with Settings ▸ Storage ▸ Move the old files…</source>
        <translation>Puedes moverlos más adelante con Ajustes ▸ Almacenamiento ▸ Mover los archivos antiguos…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_switch.py" line="115"/>
        <source>Save and continue</source>
        <translation>Guardar y continuar</translation>
    </message>
</context>
<context>
    <name>StorageView</name>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="54"/>
        <source>Storage</source>
        <translation>Almacenamiento</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="68"/>
        <source>Refresh</source>
        <translation>Actualizar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="69"/>
        <source>List the store now</source>
        <translation>Recorrer el almacén ahora</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="71"/>
        <source>Lists every object of the bucket or folder (slow on a large bucket)</source>
        <translation>Recorre todos los objetos del bucket o la carpeta (lento en un bucket grande)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="79"/>
        <source>Type</source>
        <translation>Tipo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="78"/>
        <source>Files</source>
        <translation>Archivos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="78"/>
        <source>Size</source>
        <translation>Tamaño</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="80"/>
        <source>Athlete</source>
        <translation>Deportista</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="81"/>
        <source>Day</source>
        <translation>Día</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="81"/>
        <source>In the store</source>
        <translation>En el almacén</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="83"/>
        <source>Storage by type</source>
        <translation>Almacenamiento por tipo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="84"/>
        <source>Storage by athlete</source>
        <translation>Almacenamiento por deportista</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="85"/>
        <source>Storage by day</source>
        <translation>Almacenamiento por día</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="103"/>
        <source>Loading…</source>
        <translation>Cargando…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="136"/>
        <source>Listing the store…</source>
        <translation>Recorriendo el almacén…</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/storage_view.py" line="175"/>
        <source>%Ln file(s) in the library</source>
        <translation>
            <numerusform>%Ln archivo en la biblioteca</numerusform>
            <numerusform>%Ln archivos en la biblioteca</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="180"/>
        <source>The store has not been listed yet.</source>
        <translation>El almacén aún no se ha recorrido.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="186"/>
        <source>not checked since the files changed (“%1” checks it)</source>
        <translation>sin comprobar desde que cambiaron los archivos («%1» la comprueba)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="192"/>
        <source>Store: %1 objects, %2 (listed %3); drift from the catalog: %4</source>
        <translation>Almacén: %1 objetos, %2 (recorrido %3); diferencia con el catálogo: %4</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="199"/>
        <source>Thumbnails and other derivatives: %1</source>
        <translation>Miniaturas y otros derivados: %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="204"/>
        <source>In the trash: %1</source>
        <translation>En la papelera: %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="206"/>
        <source>Images</source>
        <translation>Imágenes</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="206"/>
        <source>Videos</source>
        <translation>Vídeos</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/storage_view.py" line="218"/>
        <source>No athlete</source>
        <translation>Sin deportista</translation>
    </message>
</context>
<context>
    <name>TeamMode</name>
    <message>
        <location filename="../../desktop_app/team.py" line="277"/>
        <source>“%1”</source>
        <translation>«%1»</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/team.py" line="282"/>
        <source>%Ln file(s) were moved to the trash on %2: %1</source>
        <translation>
            <numerusform>%Ln archivo se movió a la papelera en %2: %1</numerusform>
            <numerusform>%Ln archivos se movieron a la papelera en %2: %1</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/team.py" line="284"/>
        <source>%Ln file(s) were deleted permanently on %2: %1</source>
        <translation>
            <numerusform>%Ln archivo se eliminó definitivamente en %2: %1</numerusform>
            <numerusform>%Ln archivos se eliminaron definitivamente en %2: %1</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/team.py" line="306"/>
        <source>“%1” was moved to the trash on %2.</source>
        <translation>«%1» se movió a la papelera en %2.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/team.py" line="308"/>
        <source>“%1” was deleted on %2.</source>
        <translation>«%1» se eliminó en %2.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/team.py" line="320"/>
        <source>“%1” was changed on %2 and left this view; your edits are kept.</source>
        <translation>«%1» se cambió en %2 y salió de esta vista; tus cambios se conservan.</translation>
    </message>
</context>
<context>
    <name>UploadController</name>
    <message>
        <location filename="../../desktop_app/controllers/upload_controller.py" line="512"/>
        <source>“%1” is already in the upload queue: not added again.</source>
        <translation>«%1» ya está en la cola de subida: no se añade de nuevo.</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/controllers/upload_controller.py" line="517"/>
        <source>%Ln files are already in the upload queue: not added again.</source>
        <translation>
            <numerusform>%Ln archivo ya está en la cola de subida: no se añade de nuevo.</numerusform>
            <numerusform>%Ln archivos ya están en la cola de subida: no se añaden de nuevo.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/controllers/upload_controller.py" line="683"/>
        <source>The disk holding the library (%1) cannot be read or written: it was unplugged, or the network share is gone. Connect it again; the upload goes on by itself.</source>
        <translation>No se puede leer ni escribir en el disco que contiene la biblioteca (%1): se desconectó, o la carpeta de red ya no está. Conéctalo de nuevo; la subida sigue sola.</translation>
    </message>
</context>
<context>
    <name>UploadDock</name>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="294"/>
        <source>Uploads</source>
        <translation>Subidas</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="302"/>
        <source>Upload queue</source>
        <translation>Cola de subidas</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="379"/>
        <source>Add files…</source>
        <translation>Añadir archivos…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="380"/>
        <source>Add folder…</source>
        <translation>Añadir carpeta…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="382"/>
        <location filename="../../desktop_app/views/upload_dock.py" line="661"/>
        <source>Retry failed</source>
        <translation>Reintentar fallidas</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="383"/>
        <location filename="../../desktop_app/views/upload_dock.py" line="674"/>
        <source>Pause all</source>
        <translation>Pausar todas</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="385"/>
        <source>Big files stop after the current part and go on from there when resumed.</source>
        <translation>Los archivos grandes se detienen tras la parte en curso y siguen desde ahí al reanudarlos.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="389"/>
        <source>Removes done, duplicate and cancelled rows; failed rows stay.</source>
        <translation>Quita las filas terminadas, duplicadas y canceladas; las fallidas se quedan.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="393"/>
        <source>All uploads</source>
        <translation>Todas las subidas</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="394"/>
        <source>Still to do</source>
        <translation>Pendientes</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="395"/>
        <source>Failed only</source>
        <translation>Solo fallidas</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="398"/>
        <source>Which rows the queue shows</source>
        <translation>Qué filas muestra la cola</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="399"/>
        <source>Uploads shown</source>
        <translation>Subidas mostradas</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="408"/>
        <source>Overall upload progress</source>
        <translation>Progreso total de las subidas</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="544"/>
        <source>No failed uploads.</source>
        <translation>Ninguna subida ha fallado.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="546"/>
        <source>Nothing is waiting or uploading.</source>
        <translation>No hay nada esperando ni subiéndose.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="549"/>
        <source>No uploads yet. Drop photos, videos or whole folders anywhere on this window, or use Add files…
Drop them onto an athlete in the sidebar, or while an athlete is selected, to file them under that athlete.</source>
        <translation>Aún no hay subidas. Suelta fotos, vídeos o carpetas enteras en cualquier parte de esta ventana, o usa Añadir archivos…
Suéltalos sobre un deportista de la barra lateral, o con un deportista seleccionado, para archivarlos en ese deportista.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="587"/>
        <source>%1 was not uploaded: %2</source>
        <translation>%1 no se ha subido: %2</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/upload_dock.py" line="590"/>
        <source>%Ln upload(s) failed</source>
        <translation>
            <numerusform>Ha fallado %Ln subida</numerusform>
            <numerusform>Han fallado %Ln subidas</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/upload_dock.py" line="626"/>
        <source>%Ln file(s) uploaded</source>
        <translation>
            <numerusform>%Ln archivo subido</numerusform>
            <numerusform>%Ln archivos subidos</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="666"/>
        <source>Cancel</source>
        <translation>Cancelar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="672"/>
        <source>Pause</source>
        <translation>Pausar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="672"/>
        <source>Resume</source>
        <translation>Reanudar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="674"/>
        <source>Resume all</source>
        <translation>Reanudar todas</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="720"/>
        <source>Running: %1</source>
        <translation>En curso: %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="721"/>
        <source>Queued: %1</source>
        <translation>En cola: %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="722"/>
        <source>Paused: %1</source>
        <translation>En pausa: %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="723"/>
        <source>Done: %1</source>
        <translation>Hechas: %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="724"/>
        <source>Failed: %1</source>
        <translation>Fallidas: %1</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="725"/>
        <source>Cancelled: %1</source>
        <translation>Canceladas: %1</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop_app/views/upload_dock.py" line="743"/>
        <source>Total %1 % · %Ln failed</source>
        <translation>
            <numerusform>Total %1 % · %Ln fallida</numerusform>
            <numerusform>Total %1 % · %Ln fallidas</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="746"/>
        <source>Total %1 %</source>
        <translation>Total %1 %</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="776"/>
        <source>&amp;Resume</source>
        <translation>&amp;Reanudar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="778"/>
        <source>&amp;Pause</source>
        <translation>&amp;Pausar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="779"/>
        <source>Re&amp;try</source>
        <translation>Re&amp;intentar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="781"/>
        <source>Re&amp;move from the queue</source>
        <translation>&amp;Quitar de la cola</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="783"/>
        <source>&amp;Show in the library</source>
        <translation>&amp;Mostrar en la biblioteca</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="787"/>
        <source>&amp;Copy the error</source>
        <translation>&amp;Copiar el error</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="661"/>
        <source>Retry</source>
        <translation>Reintentar</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="387"/>
        <source>Clear finished</source>
        <translation>Quitar terminadas</translation>
    </message>
    <message>
        <location filename="../../desktop_app/views/upload_dock.py" line="381"/>
        <location filename="../../desktop_app/views/upload_dock.py" line="666"/>
        <source>Cancel all</source>
        <translation>Cancelar todas</translation>
    </message>
</context>
<context>
    <name>UploadQueueModel</name>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="586"/>
        <source>Name</source>
        <translation>Nombre</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="587"/>
        <source>Size</source>
        <translation>Tamaño</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="588"/>
        <source>Progress</source>
        <translation>Progreso</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="589"/>
        <source>Speed</source>
        <translation>Velocidad</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="590"/>
        <source>ETA</source>
        <translation>Tiempo restante</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="591"/>
        <source>State</source>
        <translation>Estado</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="596"/>
        <source>Queued</source>
        <translation>En cola</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="597"/>
        <source>Validating</source>
        <translation>Validando</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="598"/>
        <source>Uploading</source>
        <translation>Subiendo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="599"/>
        <source>Done</source>
        <translation>Hecho</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="600"/>
        <source>Duplicate (already in the library)</source>
        <translation>Duplicado (ya está en la biblioteca)</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="601"/>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="640"/>
        <source>Failed</source>
        <translation>Falló</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="602"/>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="642"/>
        <source>Cancelled</source>
        <translation>Cancelado</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="603"/>
        <source>Paused</source>
        <translation>En pausa</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="613"/>
        <source>Hashing</source>
        <translation>Calculando el hash</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="614"/>
        <source>Checking the file</source>
        <translation>Comprobando el archivo</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="615"/>
        <source>Making the thumbnail</source>
        <translation>Creando la miniatura</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="616"/>
        <source>Storing</source>
        <translation>Guardando</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="617"/>
        <source>Uploading in parts</source>
        <translation>Subiendo por partes</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="618"/>
        <source>Adding to the library</source>
        <translation>Añadiendo a la biblioteca</translation>
    </message>
    <message>
        <location filename="../../desktop_app/models/upload_queue_model.py" line="619"/>
        <source>Working</source>
        <translation>Trabajando</translation>
    </message>
</context>
<context>
    <name>VideoPlayer</name>
    <message>
        <location filename="../../desktop_app/preview/video_player.py" line="220"/>
        <source>This video cannot be played.</source>
        <translation>Este vídeo no se puede reproducir.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/video_player.py" line="423"/>
        <source>The video could not be opened.</source>
        <translation>No se pudo abrir el vídeo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/video_player.py" line="424"/>
        <source>This video format is not supported.</source>
        <translation>Este formato de vídeo no es compatible.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/video_player.py" line="425"/>
        <source>A network error stopped the video.</source>
        <translation>Un error de red detuvo el vídeo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/video_player.py" line="426"/>
        <source>Access to the video was denied.</source>
        <translation>Se denegó el acceso al vídeo.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/video_player.py" line="428"/>
        <source>The video cannot be played.</source>
        <translation>El vídeo no se puede reproducir.</translation>
    </message>
    <message>
        <location filename="../../desktop_app/preview/video_player.py" line="430"/>
        <source>{message} ({detail})</source>
        <translation>{message} ({detail})</translation>
    </message>
</context>
</TS>
