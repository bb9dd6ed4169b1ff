#!/usr/bin/env bash
# kiln's setup step: makes this machine able to run `npm run example` and `npm test`, and says what it installs, and
# why, before installing anything. Idempotent: what is already there is left alone, and a second run installs nothing.
#
#   bash scripts/setup.sh             a WebGPU-capable Vulkan driver (when none is present), then node_modules
#   bash scripts/setup.sh --browser   the same, and Chromium for the browser tests (test/browser)
#   bash scripts/setup.sh --plan      print what would be installed and why, change nothing (also --dry-run)
#
# Dawn (the `webgpu` package) needs a Vulkan driver to give Node a WebGPU adapter. On a machine without a GPU that is
# Mesa's lavapipe (Vulkan on the CPU), from Mesa 23 on: Debian 12's own Mesa (22.x) gives no adapter, so there it
# comes from bookworm-backports; Debian 13+ and Ubuntu 24.04+ ship a recent enough Mesa. Any other system, or an
# existing GPU driver, is left to its owner. System packages are installed with apt-get, as root (through sudo when
# run as another user); node_modules with `npm ci` (`npm install` when it exists but is out of date), as the caller.
#
# The decision depends only on the inputs below, each overridable for test/setup.test.ts:
#   KILN_SETUP_OS_RELEASE    os-release file (default /etc/os-release, then /usr/lib/os-release)
#   KILN_SETUP_ICD_DIR       Vulkan ICD folders, colon-separated (default /usr/share/vulkan/icd.d:/etc/vulkan/icd.d)
#   KILN_SETUP_MESA_VERSION  installed mesa-vulkan-drivers version, empty for none (default: asks dpkg)
#   KILN_SETUP_VULKAN_LOADER 1 or 0: whether libvulkan.so.1 is installed (default: looks in the library folders)
#   KILN_SETUP_CHROMIUM      the Chromium the browser tests use (default $KILN_CHROMIUM, else /usr/bin/chromium)
#   KILN_SETUP_REPO          the checkout whose node_modules is checked (default: this script's repository)
set -euo pipefail

usage() { sed -n '5,7s/^#   //p' "${BASH_SOURCE[0]}"; }

browser=0
plan_only=0
for arg in "$@"; do
  case "$arg" in
    --browser) browser=1 ;;
    --plan | --dry-run) plan_only=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "setup: unknown option '$arg'" >&2; usage >&2; exit 2 ;;
  esac
done

say() { echo "setup: $*"; }

# ---- what this machine has ------------------------------------------------------------------------------------

repo=${KILN_SETUP_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

os_release=${KILN_SETUP_OS_RELEASE:-}
if [ -z "$os_release" ]; then
  os_release=/etc/os-release
  [ -r "$os_release" ] || os_release=/usr/lib/os-release
fi
os_field() { [ -r "$os_release" ] && sed -n "s/^$1=//p" "$os_release" | head -n 1 | tr -d "\"'" || true; }
os_id=$(os_field ID)
os_version=$(os_field VERSION_ID)
os_name=$(os_field PRETTY_NAME)
os_name=${os_name:-${os_id:-an unknown system (no $os_release)}}

icd_dirs=${KILN_SETUP_ICD_DIR:-/usr/share/vulkan/icd.d:/etc/vulkan/icd.d}
icd_files=()
IFS=: read -r -a icd_dir_list <<<"$icd_dirs"
for d in "${icd_dir_list[@]}"; do
  for f in "$d"/*.json; do [ -f "$f" ] && icd_files+=("$f"); done
done

if [ -n "${KILN_SETUP_MESA_VERSION+set}" ]; then
  mesa_version=$KILN_SETUP_MESA_VERSION
else
  mesa_version=$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  case "$mesa_version" in ii*) mesa_version=${mesa_version##* } ;; *) mesa_version= ;; esac
fi

if [ -n "${KILN_SETUP_VULKAN_LOADER:-}" ]; then
  vulkan_loader=$KILN_SETUP_VULKAN_LOADER
else
  vulkan_loader=0
  for f in /usr/lib/*/libvulkan.so.1 /usr/lib64/libvulkan.so.1 /usr/lib/libvulkan.so.1; do
    [ -e "$f" ] && vulkan_loader=1 && break
  done
fi

chromium=${KILN_SETUP_CHROMIUM:-${KILN_CHROMIUM:-/usr/bin/chromium}}

node_version=$(node --version 2>/dev/null || true)

# node_modules against package.json and package-lock.json: "missing", "outdated" (a locked package absent or at
# another version, one no longer locked, or package.json's dependencies changed since the lock) or "current".
# npm records what it installed in node_modules/.package-lock.json; optional packages for other platforms are
# never installed, so their absence is fine.
npm_state() {
  [ -d "$repo/node_modules" ] || { echo missing; return; }
  [ -n "$node_version" ] || { echo outdated; return; }
  (cd "$repo" && node -e '
    const fs = require("fs");
    const read = (f) => { try { return JSON.parse(fs.readFileSync(f, "utf8")); } catch { return undefined; } };
    const pkg = read("package.json"), lock = read("package-lock.json"), installed = read("node_modules/.package-lock.json");
    const outdated = () => {
      if (!pkg || !lock?.packages || !installed?.packages) return true;
      const kinds = ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"];
      const same = (a, b) => JSON.stringify(Object.entries(a ?? {}).sort()) === JSON.stringify(Object.entries(b ?? {}).sort());
      if (kinds.some((k) => !same(pkg[k], lock.packages[""]?.[k]))) return true;
      for (const [path, p] of Object.entries(lock.packages)) {
        if (!path.startsWith("node_modules/")) continue;
        const got = installed.packages[path];
        if (got ? got.version !== p.version : !p.optional) return true;
      }
      return Object.keys(installed.packages).some((path) => !(path in lock.packages));
    };
    console.log(outdated() ? "outdated" : "current");
  ' 2>/dev/null) || echo outdated
}
node_modules=$(npm_state)

# ---- the plan: a pure function of the inputs above ------------------------------------------------------------

found=()         # what was found, for the summary line
backports=()     # packages from bookworm-backports
apt_pkgs=()      # packages from the distribution
why=()           # one reason per apt package group
npm_cmd=         # npm ci | npm install | empty
errors=()        # what this script cannot do; nothing is installed when there is one

mesa_major=${mesa_version#*:}
mesa_major=${mesa_major%%[!0-9]*}
os_version_num() { # 12 -> 1200, 24.04 -> 2404
  local major=${os_version%%.*} minor=0
  [[ "$os_version" == *.* ]] && minor=${os_version#*.} && minor=${minor%%.*}
  [[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]] && echo $((10#$major * 100 + 10#$minor)) || echo 0
}
osv=$(os_version_num)
is_debian12=0
distro_mesa=0 # the distribution's own Mesa is new enough
case "$os_id" in
  debian)
    if [ "$osv" = 1200 ]; then is_debian12=1
    elif [ "$osv" -ge 1300 ] || [ -z "$os_version" ]; then distro_mesa=1 # 13+, or testing/sid (no VERSION_ID)
    fi ;;
  ubuntu) if [ "$osv" -ge 2404 ]; then distro_mesa=1; fi ;;
esac
apt_os=0
case "$os_id" in debian | ubuntu) apt_os=1 ;; esac

# A usable driver: some ICD file, and no Mesa older than 23 (whose lavapipe Dawn cannot use) behind it.
driver=ok
if [ ${#icd_files[@]} = 0 ]; then
  driver=missing
  found+=("no Vulkan driver (no ICD file in ${icd_dirs//:/ or })")
elif [ -n "$mesa_major" ] && [ "$mesa_major" -lt 23 ]; then
  driver=old
  found+=("Mesa $mesa_version, too old for WebGPU (Dawn needs Mesa 23 or newer)")
else
  found+=("a Vulkan driver (${#icd_files[@]} ICD file(s)${mesa_version:+, Mesa $mesa_version})")
fi

lavapipe_why="Mesa's Vulkan drivers, lavapipe among them (Vulkan on the CPU): Dawn needs one for a WebGPU adapter"
if [ "$driver" != ok ]; then
  if [ "$is_debian12" = 1 ]; then
    backports+=(mesa-vulkan-drivers libvulkan1)
    why+=("$lavapipe_why; bookworm's own Mesa (22) is too old, bookworm-backports has a newer one")
  elif [ "$distro_mesa" = 1 ]; then
    apt_pkgs+=(mesa-vulkan-drivers libvulkan1)
    why+=("$lavapipe_why")
  else
    errors+=("$os_name is not a system this script knows how to set up, and it has ${found[0]}: install a Vulkan driver that Dawn can use (Mesa 23 or newer, whose lavapipe runs on the CPU, or your GPU vendor's driver) and the Vulkan loader (libvulkan.so.1), then run this again")
  fi
elif [ "$vulkan_loader" != 1 ]; then
  found+=("no Vulkan loader (libvulkan.so.1)")
  if [ "$apt_os" = 1 ]; then
    apt_pkgs+=(libvulkan1)
    why+=("the Vulkan loader, through which Dawn reaches the driver")
  else
    errors+=("$os_name has a Vulkan driver but no Vulkan loader (libvulkan.so.1): install it, then run this again")
  fi
fi

if [ "$browser" = 1 ]; then
  if [ -x "$chromium" ]; then
    found+=("Chromium at $chromium")
  elif [ "$os_id" = debian ]; then
    found+=("no Chromium at $chromium")
    apt_pkgs+=(chromium)
    why+=("Chromium, which the browser tests (test/browser) drive headless through playwright-core")
  else
    errors+=("the browser tests need Chromium at $chromium, and $os_name has no Chromium package this script installs (Ubuntu's is a snap): install Chromium or Google Chrome and set KILN_CHROMIUM to its executable, or run without --browser")
  fi
fi

node_major=${node_version#v}
node_major=${node_major%%.*}
if [ -z "$node_version" ]; then
  errors+=("Node.js is not installed: install Node 20 or newer (https://nodejs.org, or NodeSource's packages), then run this again")
elif ! [[ "$node_major" =~ ^[0-9]+$ ]] || [ "$node_major" -lt 20 ]; then
  errors+=("Node.js $node_version is too old: install Node 20 or newer, then run this again")
fi
case "$node_modules" in
  missing) npm_cmd="npm ci" ;;
  outdated) npm_cmd="npm install" ;;
esac
if [ -n "$npm_cmd" ] && [ ! -f "$repo/package-lock.json" ]; then npm_cmd="npm install"; fi
found+=("node_modules $node_modules")

# ---- say it, then do it ---------------------------------------------------------------------------------------

sources=/etc/apt/sources.list.d/bookworm-backports.sources
have_backports() { grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; }

summary=$os_name
for f in "${found[@]}"; do summary+="; $f"; done
say "$summary"
if [ ${#errors[@]} -gt 0 ]; then
  for e in "${errors[@]}"; do echo "setup: cannot continue: $e" >&2; done
  echo "setup: nothing was installed" >&2
  exit 1
fi
if [ ${#backports[@]} = 0 ] && [ ${#apt_pkgs[@]} = 0 ] && [ -z "$npm_cmd" ]; then
  say "nothing to install"
  exit 0
fi
say "will install:"
i=0
if [ ${#backports[@]} -gt 0 ]; then
  have_backports || echo "  add bookworm-backports to apt's sources ($sources)"
  echo "  apt-get install -t bookworm-backports ${backports[*]}"
  echo "      ${why[i]}"; i=$((i + 1))
fi
if [ ${#apt_pkgs[@]} -gt 0 ]; then
  echo "  apt-get install ${apt_pkgs[*]}"
  for ((; i < ${#why[@]}; i++)); do echo "      ${why[i]}"; done
fi
if [ -n "$npm_cmd" ]; then
  echo "  $npm_cmd"
  echo "      the project's dependencies (node_modules $node_modules); onnxruntime-node's CUDA download is skipped"
fi
[ "$plan_only" = 1 ] && exit 0

if [ ${#backports[@]} -gt 0 ] || [ ${#apt_pkgs[@]} -gt 0 ]; then
  as_root=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "setup: installing system packages needs root: run this as root, or install sudo" >&2; exit 1; }
    as_root=(sudo)
  fi
  if [ ${#backports[@]} -gt 0 ] && ! have_backports; then
    "${as_root[@]}" tee "$sources" >/dev/null <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  fi
  apt_get() { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }
  apt_get update
  [ ${#backports[@]} = 0 ] || apt_get install -y --no-install-recommends -t bookworm-backports "${backports[@]}"
  [ ${#apt_pkgs[@]} = 0 ] || apt_get install -y --no-install-recommends "${apt_pkgs[@]}"
  if [ "$driver" != ok ] && ! compgen -G '/usr/share/vulkan/icd.d/*.json' >/dev/null; then
    echo "setup: mesa-vulkan-drivers is installed but there is no ICD file in /usr/share/vulkan/icd.d" >&2
    exit 1
  fi
fi

if [ -n "$npm_cmd" ]; then
  # onnxruntime-node's install script only downloads its CUDA/TensorRT providers (from api.nuget.org, and an
  # unreachable host fails the whole install); its CPU and WebGPU providers ship in the npm package. package.json's
  # allowScripts denies that script on npm 11; the variable skips it on any npm.
  (cd "$repo" && ONNXRUNTIME_NODE_INSTALL=skip $npm_cmd)
fi
say "done"
