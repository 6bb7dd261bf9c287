; Explorer integration, !included by the CPack NSIS template into the install section
; (CPACK_NSIS_EXTRA_INSTALL_COMMANDS in nsis.cmake). shell-uninstall.nsh undoes it.
; SHCTX is HKLM for an all-users install and HKCU for a per-user one (the template calls
; SetShellVarContext), so the uninstaller removes the keys from the same place.
; Every command starts quire.exe, the GUI program (no console window).

; "Add to Quire" in the context menu of every file and folder (a legacy verb: on Windows 11
; it is under "Show more options"). Explorer starts one "quire gui PATH" per selected item;
; MultiSelectModel=Player keeps the entry visible when more than 15 items are selected.
WriteRegStr SHCTX "Software\Classes\*\shell\io.github.quire.Quire.add" "" "Add to Quire"
WriteRegStr SHCTX "Software\Classes\*\shell\io.github.quire.Quire.add" "Icon" '"$INSTDIR\bin\quire.exe",0'
WriteRegStr SHCTX "Software\Classes\*\shell\io.github.quire.Quire.add" "MultiSelectModel" "Player"
WriteRegStr SHCTX "Software\Classes\*\shell\io.github.quire.Quire.add\command" "" '"$INSTDIR\bin\quire.exe" gui "%1"'
WriteRegStr SHCTX "Software\Classes\Directory\shell\io.github.quire.Quire.add" "" "Add to Quire"
WriteRegStr SHCTX "Software\Classes\Directory\shell\io.github.quire.Quire.add" "Icon" '"$INSTDIR\bin\quire.exe",0'
WriteRegStr SHCTX "Software\Classes\Directory\shell\io.github.quire.Quire.add" "MultiSelectModel" "Player"
WriteRegStr SHCTX "Software\Classes\Directory\shell\io.github.quire.Quire.add\command" "" '"$INSTDIR\bin\quire.exe" gui "%1"'

; "Send to > Quire": Explorer passes every selected item to one "quire gui PATH..." process.
; There is no all-users Send To folder: $SENDTO is that of the user running the installer.
CreateShortCut "$SENDTO\Quire.lnk" "$INSTDIR\bin\quire.exe" "gui"

; "Open with > Quire" (listed under "Choose another app"); never the default for a type.
WriteRegStr SHCTX "Software\Classes\Applications\quire.exe" "FriendlyAppName" "Quire"
WriteRegStr SHCTX "Software\Classes\Applications\quire.exe\DefaultIcon" "" '"$INSTDIR\bin\quire.exe",0'
WriteRegStr SHCTX "Software\Classes\Applications\quire.exe\shell\open\command" "" '"$INSTDIR\bin\quire.exe" gui "%1"'

; App Paths: "quire" from Win+R and Start > Run without changing PATH. The installer is a
; 32-bit program: without SetRegView 64, HKLM\Software would be redirected to WOW6432Node,
; where 64-bit Explorer does not look.
SetRegView 64
WriteRegStr SHCTX "Software\Microsoft\Windows\CurrentVersion\App Paths\quire.exe" "" "$INSTDIR\bin\quire.exe"
WriteRegStr SHCTX "Software\Microsoft\Windows\CurrentVersion\App Paths\quire.exe" "Path" "$INSTDIR\bin"
SetRegView default

; Tell Explorer that file associations changed (SHCNE_ASSOCCHANGED).
System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'
