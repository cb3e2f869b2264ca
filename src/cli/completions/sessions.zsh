# Session ids from the database where a SESSION is expected (flightrec __complete-sessions
# decides, from the words so far); everything else by _flightrec above.
_flightrec_sessions() {
    local out
    if out=$(${~words[1]} __complete-sessions --line -- "${(@)words[1,CURRENT]}" 2>/dev/null); then
        local -a ids
        ids=(${(f)out})
        # -V: an unsorted group, most recently active first.
        compadd -V flightrec-sessions -a ids
        return
    fi
    _flightrec "$@"
}

compdef _flightrec_sessions flightrec
if [ "$funcstack[1]" = "_flightrec" ]; then
    # Autoloaded from fpath as _flightrec: complete this time too.
    _flightrec_sessions "$@"
fi
