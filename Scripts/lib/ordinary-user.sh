# Sourced by Scripts/test-swift and Scripts/test-e2e: who runs the tests, and the copy of the
# tree they run from.
#
# An ordinary user, never root: root passes permission checks an ordinary user fails (a socket
# option, a folder's mode, another user's file). Run as root, this creates `moonwire-ci` (runs
# the tests) and `moonwire-other` (another local user, for the tests where one attacks a run);
# run as anyone else, the tests run as that user.
if [ "$(id -u)" -eq 0 ]; then
    for user in moonwire-ci moonwire-other; do
        if ! id "$user" >/dev/null 2>&1; then
            echo "    creating the local user $user (for the tests only)"
            useradd --create-home --shell /bin/bash "$user"
        fi
    done
    test_user=moonwire-ci
    as_test_user() { runuser -u "$test_user" -- "$@"; }
else
    test_user="$(id -un)"
    as_test_user() { "$@"; }
fi
test_user_home="$(eval echo "~$test_user")"

# copy_tree DEST: the checkout's files (tracked and new, not ignored) in DEST, owned by the
# test user. The checkout's folders may be out of that user's reach (under root's home), and
# nothing the tests write lands in the checkout.
copy_tree() {
    local dest="$1"
    mkdir -p "$dest"
    git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$dest"
    chmod -R a+rX "$dest"
    if [ "$(id -u)" -eq 0 ]; then chown -R "$test_user" "$dest"; fi
}
