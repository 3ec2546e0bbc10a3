#!/usr/bin/env bash
# Records the API that `mvn verify` baselines against (bnd-baseline-maven-plugin; see
# docs/trust-model.md, "How the API evolves"). Run it when a release is made, after `mvn -B package` from the root:
#
#   tools/baseline/update-baseline.sh VERSION      e.g. 0.1.0, or main-<commit> between releases
#
# For every bundle under bundles/ whose built jar exports packages, it writes an API-only copy
# of that jar (the manifest and the classes of the exported packages: all bnd's differ reads)
# to cnf/baseline/org/shadowbox/ARTIFACT/VERSION/, a Maven repository layout inside this
# repository, removes the older baselines, and sets <shadowbox.baseline.version> in pom.xml.
# Use a VERSION never used before: Maven caches resolved artifacts in ~/.m2 by version.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
version=${1:-}
if [[ ! $version =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ || $version == *SNAPSHOT* ]]; then
    echo "usage: $0 VERSION   (a release version such as 0.1.0 or main-93cb847; not a SNAPSHOT)" >&2
    exit 2
fi
project_version=$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' "$root/pom.xml" | head -1)
repo=$root/cnf/baseline
count=0
for module in "$root"/bundles/*/; do
    module=${module%/}
    artifact=$(sed -n 's:^  <artifactId>\(.*\)</artifactId>$:\1:p' "$module/pom.xml" | head -1)
    jar=$module/target/$artifact-$project_version.jar
    out=$repo/org/shadowbox/$artifact/$version
    if ! grep -rqs --include=package-info.java '@org.osgi.annotation.bundle.Export' "$module/src/main/java"; then
        rm -rf "${repo:?}/org/shadowbox/$artifact"
        continue
    fi
    [[ -f $jar ]] || { echo "update-baseline: $jar is missing: run mvn -B package first" >&2; exit 1; }
    if python3 - "$jar" "$out/$artifact-$version.jar" <<'PY'
import re, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as z:
    manifest = z.read("META-INF/MANIFEST.MF").decode("utf-8")
    unfolded = re.sub(r"\r?\n ", "", manifest)
    header = next((l[len("Export-Package: "):] for l in unfolded.splitlines() if l.startswith("Export-Package: ")), None)
    if header is None:
        sys.exit(3)  # exports nothing: no baseline
    # package names: the first token of each clause (commas inside quotes are attributes)
    clauses = re.findall(r'(?:^|,)([A-Za-z_][\w.]*)(?=;|,|$)', re.sub(r'"[^"]*"', '""', header))
    dirs = {p.replace(".", "/") + "/" for p in clauses}
    import os
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        zi = zipfile.ZipInfo("META-INF/MANIFEST.MF", (1980, 1, 1, 0, 0, 0)); zi.compress_type = zipfile.ZIP_DEFLATED; out.writestr(zi, manifest)
        for name in sorted(z.namelist()):
            d = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
            if d in dirs and name.endswith(".class"):
                zi = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)); zi.compress_type = zipfile.ZIP_DEFLATED; out.writestr(zi, z.read(name))
    print(" ".join(sorted(clauses)))
PY
    then
        cat >"$out/$artifact-$version.pom" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<!-- The API of $artifact as recorded by tools/baseline/update-baseline.sh: the baseline of mvn verify. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>org.shadowbox</groupId>
  <artifactId>$artifact</artifactId>
  <version>$version</version>
</project>
POM
        find "$repo/org/shadowbox/$artifact" -mindepth 1 -maxdepth 1 -type d ! -name "$version" -exec rm -rf {} +
        count=$((count + 1))
    else
        echo "update-baseline: $jar exports nothing, yet $module has an @Export package" >&2
        exit 1
    fi
done
sed -i "s:<shadowbox.baseline.version>.*</shadowbox.baseline.version>:<shadowbox.baseline.version>$version</shadowbox.baseline.version>:" "$root/pom.xml"
echo "update-baseline: $count API jars recorded as $version in cnf/baseline; pom.xml now baselines against $version"
