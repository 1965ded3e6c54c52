namespace GeoSync.PowerShell;

/// <summary>
/// Where each command's online help is (its HelpUri: <c>Get-Help -Online</c>, the "Online Version" link). Get-Help -Online
/// and Update-Help take only http and https addresses, so file URIs into the installed module cannot serve; and the
/// project has no public web site yet. The base is therefore a name reserved never to resolve (RFC 2606 ".invalid"):
/// the links say where each page will be, never lead to somebody else's site, and change in one line — here, in the
/// manifest's ProjectUri/LicenseUri and in the script functions' HelpUri (tests/Module/Manifest.Tests.ps1 checks they
/// agree) — once the documentation is published. The full help ships in the module, so Get-Help works offline.
/// </summary>
internal static class HelpLinks
{
    /// <summary>The project's address; the manifest's ProjectUri.</summary>
    public const string Project = "https://geosync.invalid/";

    /// <summary>A command's page is this plus its name.</summary>
    public const string Commands = Project + "help/";
}
