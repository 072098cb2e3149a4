; Inno Setup 6 script: a Windows installer around the PyInstaller one-folder bundle.
; NOT RUN HERE (this project is built and tested on Debian); .github/workflows/packages.yml runs it on
; windows-latest after `pyinstaller packaging\cryptobots-desktop.spec`:
;   ISCC.exe /DAppVersion=0.1.0 packaging\windows\cryptobots-desktop.iss
; -> dist\cryptobots-desktop-<version>-windows-x64-setup.exe
; Per-user install by default (no admin needed; the dialog offers all users). Uninstalling removes the
; program's files only: the data, settings and logs under %LOCALAPPDATA%\cryptobots-desktop and the API
; keys in Windows Credential Manager are kept.

#ifndef AppVersion
  #error Pass the version: ISCC.exe /DAppVersion=X.Y.Z (from the package metadata, as --version prints it)
#endif

[Setup]
AppId={{5C3B8E61-2F0B-4E5E-9C1B-CB0751D0E5A1}
AppName=Cryptobots Desktop
AppVersion={#AppVersion}
AppPublisher=Cryptobots Desktop maintainers
DefaultDirName={autopf}\Cryptobots Desktop
DefaultGroupName=Cryptobots Desktop
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=cryptobots-desktop-{#AppVersion}-windows-x64-setup
SetupIconFile=cryptobots-desktop.ico
UninstallDisplayIcon={app}\cryptobots-desktop.exe
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "autostart"; Description: "Start Cryptobots Desktop in the notification area when I sign in"; Flags: unchecked

[Files]
Source: "..\..\dist\cryptobots-desktop\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Cryptobots Desktop"; Filename: "{app}\cryptobots-desktop.exe"
Name: "{autodesktop}\Cryptobots Desktop"; Filename: "{app}\cryptobots-desktop.exe"; Tasks: desktopicon
Name: "{userstartup}\Cryptobots Desktop"; Filename: "{app}\cryptobots-desktop.exe"; Parameters: "--minimized"; Tasks: autostart

[Run]
Filename: "{app}\cryptobots-desktop.exe"; Description: "{cm:LaunchProgram,Cryptobots Desktop}"; Flags: nowait postinstall skipifsilent
