# prodguard integration for bash: checks the whole command line before bash runs it.
# Printed by `prodguard init bash`; the login shell loads it after the user's own startup files.
#
# Return is bound to a macro of two keys: the first runs __prodguard_check (bind -x), which
# decides and then binds the second key to accept-line (run the line) or to a no-op (keep it).
# A DEBUG trap cannot do this: it sees one simple command at a time, so in `uptime; rm -rf x`
# the `rm` would still run after a refusal of the first part.
#
# This stops mistakes, not a user who wants to get around it: `bind -r '\C-m'` undoes it.

# Include guard: already loaded, not interactive, or a bash without bind -x and READLINE_LINE.
if [[ -n ${__prodguard_loaded-} || $- != *i* || ${BASH_VERSINFO[0]:-0} -lt 4 ]]; then
  return 0
elif [[ -z ${PRODGUARD_NO_BIND-} ]]; then
  __prodguard_loaded=1
  __prodguard_bin=@PRODGUARD_BIN@
  __prodguard_started=

  __prodguard_check() {
    local line=$READLINE_LINE
    if [[ -z ${line//[[:space:]]/} ]]; then
      bind '"\C-x\C-o": accept-line'
      return
    fi
    local instead
    if instead=$("$__prodguard_bin" check --hook --guard-root-shell -- "$line" </dev/tty); then
      # A root shell (sudo -i, su -, sudo bash): run its guarded equivalent instead.
      if [[ -n $instead ]]; then
        READLINE_LINE=$instead
        READLINE_POINT=${#instead}
      fi
      __prodguard_started=${EPOCHREALTIME:-$SECONDS}
      bind '"\C-x\C-o": accept-line'
    else
      # Refused: keep the line in history and in the editing buffer, run nothing.
      history -s -- "$line"
      bind '"\C-x\C-o": redraw-current-line'
    fi
  }

  __prodguard_after() {
    local status=$?
    if [[ -n $__prodguard_started ]]; then
      local now=${EPOCHREALTIME:-$SECONDS}
      ("$__prodguard_bin" report --status "$status" --started "$__prodguard_started" --ended "$now" >/dev/null 2>&1 &)
      __prodguard_started=
    fi
    __prodguard_refresh
    printf '\033]0;%s\007' "$__prodguard_title"
    return "$status"
  }

  # In a break-glass session the segment and title carry the marker while the grant holds, so
  # they are asked again at each prompt (one round trip to the audit service); an ordinary
  # shell keeps the ones computed at start, with no process per prompt.
  __prodguard_refresh() {
    [[ -n ${PRODGUARD_BREAK_GLASS-} ]] || return 0
    local segment
    segment=$("$__prodguard_bin" prompt --shell bash 2>/dev/null) || return 0
    if [[ $segment != "$__prodguard_segment" && $PS1 == "$__prodguard_segment"* ]]; then
      PS1="${segment}${PS1#"$__prodguard_segment"}"
      __prodguard_segment=$segment
    fi
    __prodguard_title=$("$__prodguard_bin" prompt --title 2>/dev/null)
  }

  bind -x '"\C-x\C-p": __prodguard_check'
  bind '"\C-x\C-o": accept-line'
  bind '"\C-m": "\C-x\C-p\C-x\C-o"'
  bind '"\C-j": "\C-x\C-p\C-x\C-o"'

  # Recorded for the login session: its end record says whether the integration loaded.
  "$__prodguard_bin" report --integration bash >/dev/null 2>&1
  __prodguard_title=$("$__prodguard_bin" prompt --title 2>/dev/null)
  __prodguard_segment=$("$__prodguard_bin" prompt --shell bash 2>/dev/null)
  PS1="${__prodguard_segment}${PS1-}"
  if [[ $(declare -p PROMPT_COMMAND 2>/dev/null) == "declare -a"* ]]; then
    PROMPT_COMMAND=(__prodguard_after "${PROMPT_COMMAND[@]}")
  else
    # shellcheck disable=SC2128,SC2178 # the array form was handled above; this is the string form
    PROMPT_COMMAND="__prodguard_after${PROMPT_COMMAND:+; $PROMPT_COMMAND}"
  fi
fi
