#!/usr/bin/env bash
# The tracker archetype as a user runs it (issue 12, part 5): generate a project from
# org.shadowbox:shadowbox-tracker-archetype, build it offline, copy its jar into the deploy/
# folder of a running ./shadowbox, write to the tracked page with cpu:write and see the
# tracker's count move.
#
# Run by `mvn verify` in the launcher module (integration-test phase, after the export);
# by hand, after a root build: launcher/src/test/sh/archetype-test.sh
#
# Maven runs here with a local repository of its own (launcher/target/archetype-test/m2, never
# the shared ~/.m2): this build's org.shadowbox artifacts are installed into it from the
# reactor's target/ folders, and everything else comes from ~/.m2 through a file:// mirror,
# so nothing is downloaded and nobody else's ~/.m2 is written to.
# SC2016: the Gogo program is in single quotes on purpose ($ is Gogo's).
# shellcheck disable=SC2016
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd -P)
limit=${SHADOWBOX_TEST_TIMEOUT:-60}
mvn_limit=${SHADOWBOX_MVN_TIMEOUT:-300}
export SHADOWBOX_NO_BUILD=1
unset JAVA_OPTS SHADOWBOX_TRACE SHADOWBOX_WAIT_MS MAVEN_OPTS

version=$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' "$root/pom.xml" | head -1)
archetype_jar=$root/tools/tracker-archetype/target/shadowbox-tracker-archetype-$version.jar
api_jar=$root/bundles/api/target/org.shadowbox.api-$version.jar
for f in "$root/launcher/target/shadowbox.jar" "$archetype_jar" "$api_jar"; do
    [[ -f $f ]] || { echo "archetype-test: $f is missing: build the reactor first" >&2; exit 2; }
done
[[ -d $HOME/.m2/repository ]] || { echo "archetype-test: no ~/.m2/repository to build offline from" >&2; exit 2; }

base=$root/launcher/target/archetype-test
rm -rf "$base"
repo=$base/m2
work=$base/work
mkdir -p "$repo" "$work"
trap 'rm -rf "$work/ws" "$work/tmp"' EXIT
export TMPDIR=$work/tmp
mkdir -p "$TMPDIR"

cat >"$base/settings.xml" <<EOF
<settings>
  <localRepository>$repo</localRepository>
  <mirrors>
    <mirror><id>home-m2</id><mirrorOf>*</mirrorOf><url>file://$HOME/.m2/repository</url></mirror>
  </mirrors>
  <!-- A local repository keeps no checksum files: do not ask the mirror for them. -->
  <profiles>
    <profile>
      <id>home-m2</id>
      <repositories><repository><id>central</id><url>file://$HOME/.m2/repository</url>
        <releases><checksumPolicy>ignore</checksumPolicy></releases><snapshots><checksumPolicy>ignore</checksumPolicy></snapshots></repository></repositories>
      <pluginRepositories><pluginRepository><id>central</id><url>file://$HOME/.m2/repository</url>
        <releases><checksumPolicy>ignore</checksumPolicy></releases><snapshots><checksumPolicy>ignore</checksumPolicy></snapshots></pluginRepository></pluginRepositories>
    </profile>
  </profiles>
  <activeProfiles><activeProfile>home-m2</activeProfile></activeProfiles>
</settings>
EOF

log=$base/mvn.log
# mvn ARGS... -- Maven with the test's settings and repository, its output appended to $log.
mvn_() {
    echo "+ mvn $*" >>"$log"
    timeout -k 5 "$mvn_limit" mvn -B -s "$base/settings.xml" -Dmaven.repo.local="$repo" "$@" >>"$log" 2>&1
}

fail() {
    echo "  FAIL: $*"
    echo "  --- the last lines of $log:"
    tail -40 "$log" | sed 's/^/  | /'
    exit 1
}

start=$(date +%s)
install=org.apache.maven.plugins:maven-install-plugin:3.1.3:install-file
echo "archetype-test: install this build's artifacts into $repo"
mvn_ "$install" -Dfile="$root/pom.xml" -DpomFile="$root/pom.xml" -Dpackaging=pom \
    && mvn_ "$install" -Dfile="$api_jar" -DpomFile="$root/bundles/api/pom.xml" \
    && mvn_ "$install" -Dfile="$archetype_jar" -DpomFile="$root/tools/tracker-archetype/pom.xml" \
    || fail "install-file into the test repository"
# The local catalog, as the archetype's own `mvn install` writes it into ~/.m2.
cat >"$repo/archetype-catalog.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<archetype-catalog>
  <archetypes>
    <archetype><groupId>org.shadowbox</groupId><artifactId>shadowbox-tracker-archetype</artifactId><version>$version</version></archetype>
  </archetypes>
</archetype-catalog>
EOF

# The README's three commands ("Write your own tracker"), run as they are written, but for:
# Maven with this test's settings and without -o (its repository fills from the file:// mirror
# of ~/.m2 as it goes), and the jar copied to a staging folder (moved into deploy/ once the
# shell runs, below) instead of workspace/deploy/.
readme_commands=$(awk '/^## Write your own tracker/ { section = 1; next }
                       section && /^## / { exit }
                       section && /^```sh$/ { block = 1; next }
                       block && /^```$/ { exit }
                       block { print }' "$root/README.md" | sed -e ':a' -e '/\\$/N; s/\\\n *//; ta')
[[ $(grep -c . <<<"$readme_commands") -eq 3 ]] || fail "README.md's 'Write your own tracker' has no block of three commands: $readme_commands"
grep -qF -- "-DarchetypeVersion=$version " <<<"$readme_commands" \
    || fail "README.md's archetype:generate does not name this build's version $version: $readme_commands"
mkdir -p "$work/staging"
n=0
while IFS= read -r command; do
    n=$((n + 1))
    command=$(sed -E -e 's/(^|[(&;] *)mvn /\1mvn_ /g' -e 's/mvn_ -o /mvn_ /' -e 's/(mvn_ .*) -o /\1 /' -e "s#workspace/deploy/#$work/staging/#g" <<<"$command")
    echo "archetype-test: README command $n: $command"
    (cd "$work" && eval "$command") || fail "README command $n failed: $command"
done <<<"$readme_commands"
project=$work/my-tracker
for f in pom.xml bnd.bnd README.md; do
    [[ -f $project/$f ]] || fail "the generated project has no $f"
done
for f in WriteCounter.java TrackerCommands.java WriteCounterTest.java; do
    [[ -n $(find "$project/src" -name "$f") ]] || fail "the generated project has no $f"
done
grep -q 'mytracker:count' "$project/README.md" || fail "the README does not name the command mytracker:count"
jar=$(find "$work/staging" -name '*.jar' | head -1)
[[ -n $jar && -f $jar ]] || fail "the README's commands left no jar to deploy"
grep -q 'Tests run: 3, Failures: 0, Errors: 0, Skipped: 0' "$log" || fail "the generated unit test did not run its 3 tests"
mkdir -p "$base/manifest"
(cd "$base/manifest" && jar --extract --file "$jar" META-INF/MANIFEST.MF) || fail "no manifest in $jar"
manifest=$(tr -d '\r' <"$base/manifest/META-INF/MANIFEST.MF" | sed -e ':a' -e 'N' -e '$!ba' -e 's/\n //g')
grep -q '^Bundle-SymbolicName: com.example.my-tracker$' <<<"$manifest" || fail "Bundle-SymbolicName: $manifest"
grep -Eq '^Service-Component: OSGI-INF/com\.example(\.[a-z]+)*\.internal\.TrackerCommands\.xml$' <<<"$manifest" \
    || fail "no DS component in the manifest: $manifest"
# The API packages at the version bundles/api exports (package-info.java): a consumer range.
for pkg in org.shadowbox.pagetrack org.shadowbox.vm; do
    v=$(sed -n 's/.*@org.osgi.annotation.versioning.Version("\([0-9]*\)\.\([0-9]*\).*/\1.\2/p' \
        "$root/bundles/api/src/main/java/${pkg//.//}/package-info.java")
    range="[$v,$((${v%%.*} + 1)))"
    grep -qF "$pkg;version=\"$range\"" <<<"$manifest" || fail "$pkg is not imported at $range: $manifest"
done

echo "archetype-test: deploy into a running ./shadowbox and write to the page"
ws=$work/ws
cp -r "$root/workspace" "$ws"
rm -rf "$ws/deploy"/* "$ws/results" "$ws/plugins"
cp "$jar" "$work/my-tracker.jar"
out=$base/shadowbox.out
SHADOWBOX_WORKSPACE=$ws timeout -k 5 "$limit" "$root/shadowbox" -c "echo before
(new java.io.File '$work/my-tracker.jar') renameTo (new java.io.File '$ws/deploy/my-tracker.jar')
sleep 3
lb -s com.example.my-tracker
mytracker:count
cpu:write demo 0 0x1234008 0xdeadbeef --size 4
cpu:write demo 1 0x1234ffc 7 --size 4
mem:write demo 0x1234010 5
mytracker:count" </dev/null >"$out" 2>&1
status=$?
[[ $status -eq 0 ]] || { log=$out; fail "./shadowbox exited with $status"; }
log=$out
grep -Eq '\|Active *\| *[0-9]*\|com\.example\.my-tracker \(1\.0\.0[.A-Za-z0-9]*\)' "$out" || fail "the deployed tracker is not active"
counts=$(grep '^demo gfn 0x1234: ' "$out")
[[ $counts == $'demo gfn 0x1234: 0 writes\ndemo gfn 0x1234: 2 writes' ]] \
    || fail "expected the count to go from 0 to 2 (two guest writes; a host-side write notifies nobody), got: $counts"
echo "archetype-test: passed ($(($(date +%s) - start)) s)"
