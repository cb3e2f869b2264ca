# Session ids from the database where a SESSION is expected (flightrec __complete-sessions
# decides, from the words so far, and exits 1 elsewhere); no file names there.
function __fish_flightrec_sessions
    set -l words (commandline -opc) (commandline -ct)
    command $words[1] __complete-sessions --line -- $words 2>/dev/null
end
complete -c flightrec -n '__fish_flightrec_sessions >/dev/null' -f -k -a '(__fish_flightrec_sessions)'
