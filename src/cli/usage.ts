export const USAGE = `Usage: stoa <command> [options]

Commands:
  start [--config FILE]                    run the homeserver (SIGTERM/SIGINT stop it cleanly)
  migrate [--config FILE]                  apply pending database migrations and exit
  generate-keys [--config FILE | --output PATH]
                                           write a new signing key (never overwrites one)
  help                                     show this text

The config file is --config FILE, else $STOA_CONFIG, else ./data/homeserver.yaml, which
"stoa start" generates on first start. Every key is explained in homeserver.example.yaml.

Exit status: 0 success, 1 failure while running, 2 bad command line or bad config.`;
