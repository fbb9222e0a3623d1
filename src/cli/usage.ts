export const USAGE = `Usage: stoa <command> [options]

Commands:
  start [--config FILE] [--role all|client|federation-sender] [--federation-shard I/N]
                                           run the homeserver (SIGTERM/SIGINT stop it cleanly);
                                           --role and --federation-shard override cluster.*
  migrate [--config FILE]                  apply pending database migrations and exit
  generate-keys [--config FILE | --output PATH]
                                           write a new signing key (never overwrites one)
  export-room [--config FILE] (--room ROOM_ID | --user USER_ID) --out DIR
              [--since TIME] [--until TIME] [--with-media]
                                           write a signed, verifiable audit export of a room
                                           (or of every room of a user); TIME is ISO 8601 or ms
  export-room [--config FILE] --room ROOM_ID --archive FILE.tar [--since TIME] [--until TIME]
              [--with-media]               the same bundle as one .tar file; --with-media
                                           adds the media the events name, by SHA-256
  verify-export BUNDLE|FILE.tar [--expect-key ed25519:ID=BASE64] [--workers N]
                                           check a bundle offline; exit 1 when a problem is found
  verify-audit-log [--config FILE] [--expect-head SEQ:HASH]
                                           check the admin audit log's hash chain
  backup [--config FILE] --out FILE        write the embedded (PGlite) database to a .tar.gz;
                                           the server must be stopped (PostgreSQL: pg_dump)
  restore [--config FILE] --from FILE      recreate the embedded database from such a file
                                           into an empty database.path
  help                                     show this text

The config file is --config FILE, else $STOA_CONFIG, else ./data/homeserver.yaml, which
"stoa start" generates on first start. Every key is explained in homeserver.example.yaml.

Exit status: 0 success, 1 failure while running, 2 bad command line or bad config.`;
