#!/usr/bin/env bash
# Bootstrap only: brings the pinned pwsh (a local dotnet tool) and hands over to build.ps1, the one build.
set -euo pipefail
cd "$(dirname "$0")"
dotnet tool restore >/dev/null
exec dotnet pwsh -NoProfile -NonInteractive -File ./build.ps1 "$@"
