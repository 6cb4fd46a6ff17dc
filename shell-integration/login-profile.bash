# prodguard login shell: the startup files of a login bash, then the guard's integration.
#
# Given to bash as its rcfile by the prodguard login shell. bash reads an rcfile only when it is
# not a login shell (a login bash reads the profile files and ignores --rcfile), so bash is started
# as an interactive non-login shell and this file does what a login would: /etc/profile, the first
# of the personal profile files, and ~/.bash_logout on exit (`logout` is kept working as `exit`).
# The integration (prodguard.bash) follows, after the user's prompt and aliases.

__prodguard_logout() {
  # shellcheck source=/dev/null
  [ -r ~/.bash_logout ] && . ~/.bash_logout
}
trap __prodguard_logout EXIT
logout() { exit "$@"; }
# shellcheck source=/dev/null
[ -r /etc/profile ] && . /etc/profile
for __pg_f in ~/.bash_profile ~/.bash_login ~/.profile; do
  # shellcheck source=/dev/null
  if [ -r "$__pg_f" ]; then . "$__pg_f"; break; fi
done
unset __pg_f
