BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force
    $script:CommandId = 'GeoSync.PowerShell.Commands.ResolveGeoSyncUrlCommand'
    # Canonical ssh URLs name the effective user when the URL has none (the spec's table assumes root).
    $script:Me = (& id -un)
}

Describe 'Resolve-GeoSyncUrl' {
    Context 'the printed forms (spec 2.4)' {
        It 'resolves <Url>' -TestCases @(
            @{ Url = ':gv1'; Normalized = 'gluster://localhost:gv1'; Canonical = 'gluster://127.0.0.1:gv1'; RemoteSide = 'gluster://localhost:gv1' }
            @{ Url = 'localhost::gv2'; Normalized = 'ssh://localhost::gv2'; Canonical = 'ssh://{me}@127.0.0.1:gluster://127.0.0.1:gv2'; RemoteSide = 'gluster://localhost:gv2' }
            @{ Url = 'geo@127.0.0.1:/srv/slave'; Normalized = 'ssh://geo@127.0.0.1:/srv/slave'; Canonical = 'ssh://geo@127.0.0.1:file:///srv/slave'; RemoteSide = 'file:///srv/slave' }
            @{ Url = '/data'; Normalized = 'file:///data'; Canonical = 'file:///data'; RemoteSide = 'file:///data' }
            @{ Url = '//x//y/../z'; Normalized = 'file:///x/z'; Canonical = 'file:///x/z'; RemoteSide = 'file:///x/z' }
            @{ Url = 'FILE:///x'; Normalized = 'file:///x'; Canonical = 'file:///x'; RemoteSide = 'file:///x' }
            @{ Url = 'localhost:gv3'; Normalized = 'gluster://localhost:gv3'; Canonical = 'gluster://127.0.0.1:gv3'; RemoteSide = 'gluster://localhost:gv3' }
        ) {
            $info = Resolve-GeoSyncUrl -Url $Url

            $info | Should -BeOfType GeoSync.PowerShell.GeoSyncUrlInfo
            $info.Url | Should -Be $Url
            $info.Normalized | Should -Be $Normalized
            $info.Canonical | Should -Be $Canonical.Replace('{me}', $Me)
            $info.RemoteSide | Should -Be $RemoteSide
        }

        It 'escapes the canonical form as gsyncd does' {
            (Resolve-GeoSyncUrl ':gv1').CanonicalEscaped | Should -Be 'gluster%3A%2F%2F127.0.0.1%3Agv1'
            (Resolve-GeoSyncUrl 'geo@127.0.0.1:/srv/slave').CanonicalEscaped |
                Should -Be 'ssh%3A%2F%2Fgeo%40127.0.0.1%3Afile%3A%2F%2F%2Fsrv%2Fslave'
        }

        It 'splits a gluster URL into host and volume' {
            $info = Resolve-GeoSyncUrl 'gluster://localhost:a:b'
            $info.Scheme | Should -Be 'Gluster'
            $info.Host | Should -Be 'localhost'
            $info.Volume | Should -Be 'a:b'
            $info.User | Should -BeNullOrEmpty
            $info.Path | Should -BeNullOrEmpty
            $info.Inner | Should -BeNullOrEmpty
        }

        It 'describes the inner URL of an ssh URL' {
            $info = Resolve-GeoSyncUrl 'geo@127.0.0.1:/srv/slave'
            $info.Scheme | Should -Be 'Ssh'
            $info.User | Should -Be 'geo'
            $info.Host | Should -Be '127.0.0.1'
            $info.Inner | Should -BeOfType GeoSync.PowerShell.GeoSyncUrlInfo
            $info.Inner.Scheme | Should -Be 'File'
            $info.Inner.Path | Should -Be '/srv/slave'
            $info.Inner.Normalized | Should -Be 'file:///srv/slave'
            $info.Inner.Canonical | Should -Be 'file:///srv/slave'

            $gluster = (Resolve-GeoSyncUrl 'localhost::gv2').Inner
            $gluster.Scheme | Should -Be 'Gluster'
            $gluster.Volume | Should -Be 'gv2'
            $gluster.Canonical | Should -Be 'gluster://127.0.0.1:gv2'
        }
    }

    Context 'bad URLs' {
        It 'reports <Url> as InvalidGeoSyncUrl (<Reason>)' -TestCases @(
            @{ Url = 'localhost:vol/sub'; Reason = "cannot resolve sugared url 'vol/sub'" }
            @{ Url = 'gluster://bad_host:vol'; Reason = 'malformed path' }
            @{ Url = 'gluster://Host:v'; Reason = 'malformed path' }
            @{ Url = 'file://rel'; Reason = 'malformed path' }
            @{ Url = 'gluster://localhost:'; Reason = 'malformed path' }
            @{ Url = 'ssh://@h:/x'; Reason = 'malformed path' }
            @{ Url = 'gluster://localhost:v*ol'; Reason = 'malformed url' }
            @{ Url = 'file:///with space'; Reason = 'malformed url' }
            @{ Url = 'nfs://h:/x'; Reason = 'unknown url scheme nfs' }
            @{ Url = 'foo'; Reason = "cannot resolve sugared url 'foo'" }
            @{ Url = ''; Reason = "cannot resolve sugared url ''" }
        ) {
            $output = Resolve-GeoSyncUrl -Url $Url -ErrorAction SilentlyContinue -ErrorVariable errors

            $output | Should -BeNullOrEmpty
            $errors | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -Be "InvalidGeoSyncUrl,$CommandId"
            $errors[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $errors[0].TargetObject | Should -Be $Url
            $errors[0].Exception.Message | Should -BeLike "*$([WildcardPattern]::Escape($Reason))*"
        }

        It 'goes on with the remaining URLs after a bad one, in order' {
            $output = ':gv1', 'nfs://h:/x', '/data' | Resolve-GeoSyncUrl -ErrorAction SilentlyContinue -ErrorVariable errors

            $output.Url | Should -Be @(':gv1', '/data')
            $errors | Should -HaveCount 1
            $errors[0].TargetObject | Should -Be 'nfs://h:/x'
        }

        It 'stops at a bad URL with -ErrorAction Stop' {
            { Resolve-GeoSyncUrl 'nfs://h:/x' -ErrorAction Stop } | Should -Throw -ErrorId "InvalidGeoSyncUrl,$CommandId"
        }
    }

    Context 'a host that does not resolve' {
        # .invalid never resolves (RFC 6761), so this holds on any network.
        It 'still emits the other forms, with Canonical null, and writes UrlHostNotResolved' {
            $output = Resolve-GeoSyncUrl 'nohost.invalid::gv2' -ErrorAction SilentlyContinue -ErrorVariable errors

            $output | Should -HaveCount 1
            $output.Normalized | Should -Be 'ssh://nohost.invalid::gv2'
            $output.RemoteSide | Should -Be 'gluster://localhost:gv2'
            $output.Host | Should -Be 'nohost.invalid'
            $output.Canonical | Should -BeNullOrEmpty
            $output.CanonicalEscaped | Should -BeNullOrEmpty
            $output.Inner.Canonical | Should -Be 'gluster://127.0.0.1:gv2'

            $errors | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -Be "UrlHostNotResolved,$CommandId"
            $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $errors[0].TargetObject | Should -Be 'nohost.invalid::gv2'
            "$($errors[0])" | Should -BeLike '*nohost.invalid*'
        }

        It 'reports the failure once when the inner host fails too' {
            $null = Resolve-GeoSyncUrl 'ssh://a.invalid:gluster://b.invalid:v' -ErrorAction SilentlyContinue -ErrorVariable errors
            $errors | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -Be "UrlHostNotResolved,$CommandId"
        }
    }

    Context 'pipeline' {
        It 'binds strings by value' {
            (':gv1', '/data' | Resolve-GeoSyncUrl).Normalized | Should -Be @('gluster://localhost:gv1', 'file:///data')
        }

        It 'binds a Url property by property name' {
            ([pscustomobject]@{ Url = ':gv1' } | Resolve-GeoSyncUrl).Canonical | Should -Be 'gluster://127.0.0.1:gv1'
        }

        It 'narrates each URL on the verbose stream' {
            $verbose = Resolve-GeoSyncUrl ':gv1' -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
            $verbose.Message | Should -BeLike "*':gv1'*"
        }
    }
}
