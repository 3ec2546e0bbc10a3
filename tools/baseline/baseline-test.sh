#!/usr/bin/env bash
# Proves that `mvn verify` fails on an incompatible API change without a major version step
# (issue 14): builds copies of bundles/api with this repository's own pom.xml, bnd.bnd, cnf/
# and tools/baseline/update-baseline.sh, and checks bnd-baseline-maven-plugin's verdict.
#
#   1. every module with an exported package (@Export in a package-info.java) is baselined:
#      its pom sets shadowbox.baseline.skip=false and cnf/baseline holds its recorded API;
#   2. the copy, recorded as its own baseline by update-baseline.sh, verifies;
#   3. with a method removed from org.shadowbox.vm.Vm, verify FAILS: MAJOR change;
#   4. with an abstract method added to the provider type Vm, verify FAILS: MINOR change;
#   5. with the method removed and the major versions raised, verify passes (org.shadowbox.vm
#      and org.shadowbox.vm.spi: its PlatformVm extends Vm, so bnd sees the removal there too).
#
# Run by `mvn verify` in the launcher module; by hand: tools/baseline/baseline-test.sh
# The copies build with a Maven repository of their own (launcher/target/baseline-test/m2),
# fed from ~/.m2 through a file:// mirror: nothing is downloaded, ~/.m2 is not written.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
mvn_limit=${SHADOWBOX_MVN_TIMEOUT:-300}
base=$root/launcher/target/baseline-test
rm -rf "$base"
mkdir -p "$base"
log=$base/mvn.log
: >"$log"
passed=0
failed=0

ok() { echo "  ok: $*"; passed=$((passed + 1)); }
bad() {
    echo "  FAIL: $*"
    echo "  --- the last lines of $log:"
    tail -25 "$log" | sed 's/^/  | /'
    failed=$((failed + 1))
}

echo "baseline-test: 1. every exported package is baselined"
version=$(sed -n 's:.*<shadowbox.baseline.version>\(.*\)</shadowbox.baseline.version>.*:\1:p' "$root/pom.xml")
[[ -n $version ]] || bad "pom.xml sets no shadowbox.baseline.version"
missing=0
for module in "$root"/bundles/*/; do
    module=${module%/}
    grep -rqs --include=package-info.java '@org.osgi.annotation.bundle.Export' "$module/src/main/java" || continue
    artifact=$(sed -n 's:^  <artifactId>\(.*\)</artifactId>$:\1:p' "$module/pom.xml" | head -1)
    if ! grep -q '<shadowbox.baseline.skip>false</shadowbox.baseline.skip>' "$module/pom.xml"; then
        echo "  ${module#"$root"/} exports packages but its pom does not set shadowbox.baseline.skip=false"
        missing=1
    fi
    if [[ ! -f $root/cnf/baseline/org/shadowbox/$artifact/$version/$artifact-$version.jar ]]; then
        echo "  ${module#"$root"/} exports packages but cnf/baseline has no $artifact $version"
        missing=1
    fi
done
[[ $missing -eq 0 ]] && ok "each module with an @Export package is compared with cnf/baseline ($version)" \
    || bad "unguarded exported packages (run tools/baseline/update-baseline.sh after a release)"

cat >"$base/settings.xml" <<XML
<settings>
  <localRepository>$base/m2</localRepository>
  <mirrors>
    <mirror><id>home-m2</id><mirrorOf>external:*</mirrorOf><url>file://$HOME/.m2/repository</url></mirror>
  </mirrors>
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
XML

copy=$base/copy
mkdir -p "$copy/bundles" "$copy/tools"
cp -r "$root/pom.xml" "$root/bnd.bnd" "$root/cnf" "$root/.mvn" "$copy/"
cp -r "$root/tools/baseline" "$copy/tools/"
rm -rf "$copy/cnf/baseline"
mkdir -p "$copy/bundles/api"
cp -r "$root/bundles/api/pom.xml" "$root/bundles/api/bnd.bnd" "$root/bundles/api/src" "$copy/bundles/api/"
vm_java=$copy/bundles/api/src/main/java/org/shadowbox/vm/Vm.java
vm_info=$copy/bundles/api/src/main/java/org/shadowbox/vm/package-info.java
cp "$vm_java" "$base/Vm.java.orig"
cp "$vm_info" "$base/package-info.java.orig"

# verify_copy LABEL: mvn verify of the copy's api module; its output appended to $log.
verify_copy() {
    echo "+ [$1] mvn verify" >>"$log"
    (cd "$copy" && timeout -k 5 "$mvn_limit" mvn -B -s "$base/settings.xml" -f bundles/api/pom.xml \
        -DskipTests verify "${@:2}") >"$base/$1.log" 2>&1
    local status=$?
    cat "$base/$1.log" >>"$log"
    return $status
}

echo "baseline-test: 2. the copy, recorded as its own baseline, verifies"
if verify_copy record -Dshadowbox.baseline.skip=true \
        && (cd "$copy" && bash tools/baseline/update-baseline.sh test-1) >>"$log" 2>&1 \
        && verify_copy unchanged && grep -q "Baseline check succeeded" "$base/unchanged.log"; then
    ok "unchanged API: Baseline check succeeded"
else
    bad "the unchanged copy does not verify against its own baseline"
fi

# mismatch LOG DELTA: prints bnd's report row for org.shadowbox.vm if it is marked as a
# mismatch ("* org.shadowbox.vm PACKAGE MAJOR 2.0.0 2.0.0 3.0.0"), or fails.
mismatch() {
    grep -E "^\[ERROR\] \* org\.shadowbox\.vm +PACKAGE +$2 " "$base/$1.log" | head -1 \
        | sed -E 's/^\[ERROR\] \* //; s/ +/ /g' | grep .
}

restore() { cp "$base/Vm.java.orig" "$vm_java"; cp "$base/package-info.java.orig" "$vm_info"; }

echo "baseline-test: 3. a removed method without a major step fails the build"
sed -i '/^    boolean destroyed();$/d' "$vm_java"
if cmp -s "$vm_java" "$base/Vm.java.orig"; then
    bad "Vm.java has no line 'boolean destroyed();' to remove: update this test"
elif verify_copy removed; then
    bad "verify passed with Vm.destroyed() removed and org.shadowbox.vm's version unchanged"
elif mismatch removed MAJOR >/dev/null; then
    ok "Vm.destroyed() removed: $(mismatch removed MAJOR)"
else
    bad "verify failed, but not with the baseline's MAJOR mismatch for org.shadowbox.vm"
fi

echo "baseline-test: 4. a method added to a provider type without a minor step fails the build"
restore
sed -i 's:^    boolean destroyed();$:    boolean destroyed();\n\n    /** Added by baseline-test.sh. */\n    int baselineTestProbe();:' "$vm_java"
if cmp -s "$vm_java" "$base/Vm.java.orig"; then
    bad "could not add a method to Vm.java: update this test"
elif verify_copy added; then
    bad "verify passed with a method added to Vm and org.shadowbox.vm's version unchanged"
elif mismatch added MINOR >/dev/null; then
    ok "Vm.baselineTestProbe() added: $(mismatch added MINOR)"
else
    bad "verify failed, but not with the baseline's MINOR mismatch for org.shadowbox.vm"
fi

echo "baseline-test: 5. the same removal with the major version raised passes"
restore
sed -i '/^    boolean destroyed();$/d' "$vm_java"
raise_major() {
    local info=$1 major
    major=$(sed -n 's:.*@org.osgi.annotation.versioning.Version("\([0-9]*\)\..*").*:\1:p' "$info")
    sed -i "s:@org.osgi.annotation.versioning.Version(\"[^\"]*\"):@org.osgi.annotation.versioning.Version(\"$((major + 1)).0.0\"):" "$info"
    echo "$((major + 1)).0.0"
}
spi_info=$copy/bundles/api/src/main/java/org/shadowbox/vm/spi/package-info.java
cp "$spi_info" "$base/spi-package-info.java.orig"
next=$(raise_major "$vm_info")
next_spi=$(raise_major "$spi_info")
if verify_copy bumped && grep -q "Baseline check succeeded" "$base/bumped.log"; then
    ok "Vm.destroyed() removed with org.shadowbox.vm at $next, org.shadowbox.vm.spi at $next_spi: Baseline check succeeded"
else
    bad "verify failed although org.shadowbox.vm's major version was raised to $next (vm.spi to $next_spi)"
fi

echo "baseline-test: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
