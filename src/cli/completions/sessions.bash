# Session ids from the database where a SESSION is expected (flightrec __complete-sessions
# decides, from the words so far); everything else as above.
_flightrec_sessions() {
    local bin="${COMP_WORDS[0]}" ids id
    [[ $bin == "~/"* ]] && bin="$HOME/${bin#"~/"}"
    if ids=$("$bin" __complete-sessions --line -- "${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null); then
        COMPREPLY=()
        while IFS= read -r id; do
            [[ -n $id ]] && COMPREPLY+=("$id")
        done <<<"$ids"
        # No file names in place of a session id, even when none matches.
        compopt +o default +o bashdefault 2>/dev/null
        return 0
    fi
    _flightrec "$@"
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _flightrec_sessions -o nosort -o bashdefault -o default flightrec
else
    complete -F _flightrec_sessions -o bashdefault -o default flightrec
fi
