; Undoes shell-install.nsh, !included into the uninstall section
; (CPACK_NSIS_EXTRA_UNINSTALL_COMMANDS in nsis.cmake). The user's catalog and settings
; (under %APPDATA%) are left alone: Quire never deletes a catalog.
DeleteRegKey SHCTX "Software\Classes\*\shell\io.github.quire.Quire.add"
DeleteRegKey SHCTX "Software\Classes\Directory\shell\io.github.quire.Quire.add"
DeleteRegKey SHCTX "Software\Classes\Applications\quire.exe"
; The Send To shortcut of the user running the uninstaller.
Delete "$SENDTO\Quire.lnk"
; App Paths was written to the 64-bit view (see shell-install.nsh).
SetRegView 64
DeleteRegKey SHCTX "Software\Microsoft\Windows\CurrentVersion\App Paths\quire.exe"
SetRegView default
System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'
