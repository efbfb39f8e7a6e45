// Usage text and the error that means "bad usage or invalid input" (exit code 2).
export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `usage: keyport <command> [options]

  serve [--data DIR] [--host H] [--mqtt-port N] [--ws-port N] [--tls-port N] [--http-port N] [--json]
        [--max-packet BYTES] [--max-queue BYTES] [--drain-timeout MS] [--max-filters N]
        [--limits losant|off]  (Losant's rate limits and bans; default losant, stored in DIR)
        [--cluster redis://[:PASSWORD@]HOST:PORT [--node-id NAME]]  (one node of a cluster sharing
        that Redis; also KEYPORT_CLUSTER; node id default: hostname-pid)
  ui-url [--json]      the UI link (with the admin token) of the server running on DIR, again
  devices create --name N [--description D] [--tag k=v]... [--class C] [--gateway ID] [--attr name:type]... [--json | --id-only]
  devices list [--json]
  devices set-tags ID [--tag k=v]...
  devices delete ID
  keys create [--name N] [--description D] (--all-devices | --device ID... | --tag k=v|k|=v...)
              [--allow-address A... | --deny-address A...]
              [--topics none|all | --pub-topic T... --sub-topic T... --topics whitelist|blacklist]
              [--save FILE [--format env|json|csv|c-header|arduino|platformio]] [--json | --id-only]
              (with --save the secret goes only to FILE, mode 0600; --json then says secretSavedTo)
  keys list [--query JSON] [--json]
  keys set-status ID active|inactive
  keys delete ID
  keys lint [ID] [--json]        findings (code, sentence, fix) for one key or all
  keys matrix ID [--address A] [--csv | --json]   devices × connect/publish/subscribe/custom rules
  explain --key ID|KEY --device ID [--address A] [--transport tcp|ws|tls] [--forwarded-for LIST]
          [--publish TOPIC]... [--subscribe FILTER]... [--deliver TOPIC]... [--will TOPIC] [--json]
          (no secret: the key's rules are explained; exit 3 when anything asked is denied)
  simulate (--secret-file FILE | --device ID --key K [--secret -]) [--every SECONDS]
           [--transport tcp|ws] [--url URL] [--source ADDR] [--attr name=GENERATOR]...
           [--duration SECONDS] [--json]
           the secret: --secret-file FILE (written by keys create --save; gives key and device too),
           KEYPORT_SECRET in the environment, or --secret - (one line on stdin); --secret S works
           but warns, since a command line is visible to other users in ps
  simulate --fleet N [--shard I/S] [--tag k=v]... [--every SECONDS] [--duration SECONDS]
           [--url URL | --broker URL[,URL]...] [--api URL [--admin-token-file F]]
           [--transport tcp|ws] [--name-prefix P] [--keep] [--json]
           --shard I/S: only part I of S of the fleet (from 1; --fleet 1000 --shard 2/4 = devices 251-500)
           --broker: a cluster's nodes; devices spread over them and move to the next when theirs goes away
           --api: a Keyport server (any node) makes the devices and keys; its admin token from
           --admin-token-file F or KEYPORT_ADMIN_TOKEN
           GENERATOR: static:V | int:MIN..MAX | float:MIN..MAX[:DECIMALS] | string:N | boolean
                      | gps:LAT,LNG,RADIUS_M | sine:MIN..MAX:PERIOD_S | ramp:MIN..MAX:STEP

keys create: a device is in scope when its id is listed OR it matches ANY one --tag; --tag k (or k=)
matches any value of tag k, --tag =v any tag whose value is v.
Every command takes --data DIR (or KEYPORT_DATA) to pick the data directory (default ~/.keyport).
Exit codes: 0 ok, 1 runtime failure, 2 bad usage or invalid input, 3 explain: something is denied.`;
