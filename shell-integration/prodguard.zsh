# prodguard integration for zsh: checks the whole command line before zsh runs it.
# Printed by `prodguard init zsh`; the login shell loads it after the user's own startup files.
#
# The accept-line widget is replaced: the buffer is decided on as a whole, and only then accepted.
# This stops mistakes, not a user who wants to get around it: `zle -A .accept-line accept-line`
# undoes it.

# Include guard: already loaded, not interactive, or a zsh too old for add-zsh-hook.
if [[ -n ${__prodguard_loaded-} || ! -o interactive ]] || ! autoload -Uz add-zsh-hook 2>/dev/null; then
  return 0
fi
if [[ -z ${PRODGUARD_NO_BIND-} ]]; then
  typeset -g __prodguard_loaded=1
  typeset -g __prodguard_bin=@PRODGUARD_BIN@
  typeset -g __prodguard_started=
  zmodload zsh/datetime 2>/dev/null

  # The shell's own variables that the line names ($NAME, ${NAME…}), for the guard in
  # PRODGUARD_SHELL_VARS: the guard runs in its own process, which sees only exported ones. One
  # line each, NAME=value in the shell's quoting, `unset NAME` or `unknown NAME` (arrays and the
  # like). A long value is reported as unknown; the report stays small.
  zmodload -F zsh/parameter p:parameters 2>/dev/null
  __prodguard_vars() {
    local __pg_rest=$1 __pg_n __pg_t __pg_v
    local -a match mbegin mend
    local MATCH MBEGIN MEND
    __prodguard_report=
    while [[ $__pg_rest =~ '\$\{?[#!]?([A-Za-z_][A-Za-z0-9_]*)' && ${#__prodguard_report} -lt 65536 ]]; do
      __pg_n=$match[1]
      __pg_rest=${__pg_rest#*"$MATCH"}
      # Ours, or shadowed here by the locals above: not mentioned, so not known.
      case $__pg_n in __pg_* | __prodguard* | match | mbegin | mend | MATCH | MBEGIN | MEND) continue ;; esac
      __pg_t=${parameters[$__pg_n]-}
      case $__pg_t in
        '') __prodguard_report+="unset $__pg_n"$'\n' ;;
        scalar* | integer* | float*)
          __pg_v="$__pg_n=${(q+)${(P)__pg_n}}"
          [[ $__pg_t == *export* ]] && __pg_v="declare -x $__pg_v"
          if ((${#__pg_v} > 8192)); then
            __prodguard_report+="unknown $__pg_n"$'\n'
          else
            __prodguard_report+="$__pg_v"$'\n'
          fi
          ;;
        *) __prodguard_report+="unknown $__pg_n"$'\n' ;;
      esac
    done
  }

  __prodguard_accept_line() {
    if [[ -z ${BUFFER//[[:space:]]/} ]]; then
      zle .accept-line
      return
    fi
    local __pg_instead __prodguard_report
    __prodguard_vars "$BUFFER"
    if __pg_instead=$(PRODGUARD_SHELL_VARS=$__prodguard_report "$__prodguard_bin" check --hook --guard-root-shell -- "$BUFFER" </dev/tty); then
      # A root shell (sudo -i, su -, sudo bash): run its guarded equivalent instead.
      [[ -n $__pg_instead ]] && BUFFER=$__pg_instead
      __prodguard_started=${EPOCHREALTIME:-$SECONDS}
      zle .accept-line
    else
      # Refused: keep the line in history and in the buffer, run nothing.
      print -s -- "$BUFFER"
      zle -I
      zle reset-prompt
    fi
  }
  zle -N accept-line __prodguard_accept_line

  __prodguard_precmd() {
    local exit_status=$?
    if [[ -n $__prodguard_started ]]; then
      ("$__prodguard_bin" report --status "$exit_status" --started "$__prodguard_started" --ended "${EPOCHREALTIME:-$SECONDS}" >/dev/null 2>&1 &)
      __prodguard_started=
    fi
    __prodguard_refresh
    print -n -- "\e]0;${__prodguard_title}\a"
  }
  add-zsh-hook precmd __prodguard_precmd

  # In a break-glass session the segment and title carry the marker while the grant holds, so
  # they are asked again at each prompt (one round trip to the audit service); an ordinary
  # shell keeps the ones computed at start, with no process per prompt.
  __prodguard_refresh() {
    [[ -n ${PRODGUARD_BREAK_GLASS-} ]] || return 0
    local segment
    segment="$("$__prodguard_bin" prompt --shell zsh 2>/dev/null)" || return 0
    if [[ $segment != "$__prodguard_segment" && $PROMPT == "${__prodguard_segment}"* ]]; then
      PROMPT="${segment}${PROMPT#"$__prodguard_segment"}"
      __prodguard_segment=$segment
    fi
    __prodguard_title="$("$__prodguard_bin" prompt --title 2>/dev/null)"
  }

  # Recorded for the login session: its end record says whether the integration loaded.
  "$__prodguard_bin" report --integration zsh >/dev/null 2>&1
  typeset -g __prodguard_title="$("$__prodguard_bin" prompt --title 2>/dev/null)"
  typeset -g __prodguard_segment="$("$__prodguard_bin" prompt --shell zsh 2>/dev/null)"
  PROMPT="${__prodguard_segment}${PROMPT-}"
fi
