-- The secret-scanning rules shipped with vigil (vigil-scan secrets and the
-- secrets plugin). Each rule:
--   id, description, severity ("low" | "medium" | "high" | "critical"), tags
--   regex         precise PCRE2 expression; the secret is group 1 (or
--                 secret_group); the same expression, in vectorscan's
--                 prefilter mode, finds the candidates in one pass
--   keywords      literals that must occur; the prefilter when vectorscan
--                 cannot take the expression
--   entropy       minimum Shannon entropy (bits per byte) of the secret, or
--                 { [group] = min | { min, max } }
--   paths, exclude_paths   fnmatch globs on the path inside the target
--   allow         expressions (caseless); a secret matching one is ignored
--   prefilter     "keywords" or "regex": what vectorscan looks for (default:
--                 the keywords when all have 3+ characters); "regex" suits
--                 rules whose keywords are common words ("key", "token")
--   prefilter_regex  what vectorscan looks for instead of regex: a cheaper
--                 expression that matches within every match of regex (it
--                 only says where the precise check runs, so it must never
--                 miss one); for expressions vectorscan runs slowly
--   window        for an expression that spans lines: how many bytes around
--                 a candidate the precise check reads (others: its line)
--   value         "literal": the value must look like a literal secret (not a
--                 name, call, template, environment lookup...; see
--                 plugins/secrets/value.c); for keyword = value rules
--   kind          "k8s-secret": the rule sees only the decoded data values of
--                 Kubernetes Secret manifests ("key: value")
--   examples      { hit = text the rule must report, miss = a near miss it
--                 must not report, path = where the text lives }; checked by
--                 tests/unit of plugins/secrets for every rule
-- A user's --rules file has the same shape: its rules add to these or
-- replace them by id, `disable = { "id", ... }` drops rules, and `allow`,
-- `exclude_paths` and `example_values` extend the global lists.
-- Rules tagged "generic" yield to the others: where a specific rule reports
-- a secret, a generic one reports nothing. Rules tagged "key" are reported
-- in test paths even when these are left out.
-- The tokens in the examples are random strings in each format, not
-- credentials of anyone.
return {
  -- Placeholders that are never secrets, whatever the rule.
  allow = {
    [[example]], [[\$\{[^}]*\}]], [[^\$[A-Za-z_][A-Za-z0-9_]*$]], [[<[A-Za-z _-]*>]],
    [[changeme]], [[change_me]], [[x{4,}]], [[\*{4,}]], [[^(?:password|secret|dummy|sample|placeholder|redacted|test|none|null)$]],
    [[^your[_-]?]], [[\{\{[^}]*\}\}]], [[^ENC\[AES256_GCM]], [=[^\{[A-Za-z_][\w.!:\[\]]*\}]=], [[^%\(]], [[0{8,}]], [[(?:abcdef|123456|qwerty)]],
  },
  -- Values published as examples in documentation and standards: a finding
  -- whose secret holds one is example data, not a leak. It is counted, and
  -- reported (at low severity, context "example") only when asked for
  -- (`vigil-scan secrets --example-data`, plugin setting example_data).
  example_values = {
    -- AWS documentation (IAM user guide, CLI configuration)
    "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AKIAI44QH8DHBEXAMPLE", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    -- RFC 6749 (OAuth 2.0) and RFC 6750: client, codes and tokens of the examples
    "czZCaGRSa3F0MzpnWDFmQmF0M2JW", "s6BhdRkqt3", "7Fjfp0ZBr1KtDRbnfVdmIw",
    "SplxlOBeZQQYbYS6WxSbIA", "2YotnFZFEjr1zCsicMWpAA", "tGzv3JOkF0XG5Qx2TlKWIA",
    "8xLOxBtZp8", "mF_9.B5f-4.1JqM",
    -- RFC 5849 (OAuth 1.0): consumer, temporary and token credentials
    "dpf43f3p2l4k3l03", "kd94hf93k423kf44", "hh5s93j4hdidpola", "hdhd0244k9j7ao03",
    "hfdp7dh39dks9884", "nnch734d00sl2jdk", "pfkkdhi9sl3r4s00", "ad180jjd733klru7",
    -- Firebase SDK documentation's sample web configuration
    "AIzaSyDOCAbC123dEf456GhI789jKl01-MnO",
    -- jwt.io's example token and PyJWT's README token (HS256, key "secret")
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "4twFt5NiznN84AWoo1d7KO1T_yoc0Z6XOpOVswacPZg",
    -- Stripe API reference test key, NuGet config reference passwords
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc", "33f!!lloppa", "hal+9ooo_da!sY",
  },
  -- Paths no rule looks at: lock files are full of hashes, not secrets, and
  -- this file is full of examples.
  exclude_paths = { "*vigil/secrets/rules.lua", "*lua/secrets/rules.lua", "*package-lock.json", "*yarn.lock", "*go.sum", "*Cargo.lock", "*poetry.lock", "*.min.js" },
  -- Rules that name a window may match across lines; the others are
  -- checked on the candidate's line.
  rules = {
    {
      id = "private-key",
      description = "PEM private key (PKCS#1, PKCS#8, EC, DSA, encrypted)",
      regex = [[-----BEGIN ((?:RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY)-----\s*([A-Za-z0-9+/=\r\n]{64,})]],
      keywords = { "PRIVATE KEY-----" },
      severity = "critical", tags = { "key", "pem" },
      secret_group = 2,
      entropy = { [2] = 4.0 },
      window = 8192,
      examples = { hit = [[-----BEGIN RSA PRIVATE KEY-----
PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA/2O76UMFxFkM/R5Kjp1vRt+1f
jORS/6ilI8ihN5KXSc7Tvo/hBKqFYY/kv5ZJr3J1TWDtkwtDDb+xHKas1VOqg6YY
ZYn9ZhyiA4uoRgnatmUdjAWtGSU8po+799NksnRH9ucAUsdMlHUvTCQCyEZDz/Td
dJ8HyS5SUkCnD8zRA9a9SkpXz9w3QlY7Zkuvqdt7s8Stqcbnr3yBdGBLEPH1qhT6
-----END RSA PRIVATE KEY-----
]], miss = [[-----BEGIN PUBLIC KEY-----
1qtc4xatws8phP9nhFyJfm5di4PzJ59FHz5r1pY4OjE2jBMptUsGr7CmY+uCu3ZR
1zTOlUcR64cXQLioDnkHIfxIq2HZt/PlJhx2jIclHkCiHp6bR1IqfEouHgxzNNAL
5wIScGebcy8F5n3/YNBDRzrZSgqbjG3uhkWKFLf6xuI5aHUQPFeNBTxaQWk8JzFa
lHlsZfYcMMDktXP/tKsf2rcDkdfrUnW5gcF+Ha6ili8GjHEAD6/Wj9KfzjsQGMrb
-----END PUBLIC KEY-----
]] },
    },
    {
      id = "openssh-private-key",
      description = "OpenSSH private key",
      regex = [[-----BEGIN OPENSSH PRIVATE KEY-----\s*(b3BlbnNzaC1rZXktdjE[A-Za-z0-9+/=\r\n]{40,})]],
      keywords = { "BEGIN OPENSSH PRIVATE KEY" },
      severity = "critical", tags = { "key", "ssh" },
      window = 8192,
      examples = { hit = [[-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjE9h+ImB+LK777pzNk8cL6j5IXAAjlsHUqJoUD/+Ydua+5ZMs1SWOpQaPRYpzbLGVi
YXjU2JgJngKtFI3OyV2dZAkg05rK+gqv81RKMGHZEM9YpvujA/C5Q52ryFlwRlOE
VHzc0X0AWIRh/JUqBlIFXZ53Ncqe28+ajY75FnCttn6kfaqDeMqG3omjMyXHCabM
6JOF8EFd0Nhcy/1kGD2VD/eR1UYzaLiA/zNyD7CHLn/xC+1hsYgBds1ghxY5Ookv
Qyx7eNWVQ4vnakJkS1pAWTN3lg8zV5yPU8d0FZfWe7ih
-----END OPENSSH PRIVATE KEY-----
]], miss = [[-----BEGIN OPENSSH PRIVATE KEY-----
...
-----END OPENSSH PRIVATE KEY-----
]] },
    },
    {
      id = "pgp-private-key",
      description = "PGP private key block",
      regex = [[-----BEGIN PGP PRIVATE KEY BLOCK-----\s*(?:[A-Za-z-]+: [^\n]*\n)*\s*([A-Za-z0-9+/=\r\n]{64,})]],
      keywords = { "BEGIN PGP PRIVATE KEY BLOCK" },
      severity = "critical", tags = { "key", "pgp" },
      window = 8192,
      examples = { hit = [[-----BEGIN PGP PRIVATE KEY BLOCK-----

GyiRUIQfHOJMaidDn87XG3/q/xbMtEPO6UkzYuF0ie9Pu2njHkAm1/5wDr16EpLL
JIVGHz4FxFEtKyPiYGFDm7ena8D5VfLDpgyyjVw5HanSBeVRsfAGeAbP0VxNjAe/
9i0mYtluYI0KN1gNT11cUzYZAa3u2olZU6uqbgsYlVvsSKuvinX+zMqf9OgXluCZ
z8xBfZuX
-----END PGP PRIVATE KEY BLOCK-----
]], miss = [[-----BEGIN PGP PUBLIC KEY BLOCK-----

TptFyfePpX6N1NF2XV54wca+7E56w8ZniqT3Ul4ffqkOkgWrdioyq+KvCiSGuPJ6
sG9AHEOVezxZuJPWvHogU5nGYVHWVsUQk4DwgLGNOaeCtL31Ugq+DfcgaTMnTC0M
rAU8urbFt5misIZHbhS4/FvafhdZxEuhnbzs0z1wNiMg9aW37k5wCnHDepQHgI3H
LBkbvHEz
-----END PGP PUBLIC KEY BLOCK-----
]] },
    },
    {
      id = "putty-private-key",
      description = "PuTTY private key file (.ppk)",
      regex = [[PuTTY-User-Key-File-[23]:[^\n]*\n(?:[^\n]*\n){1,40}?Private-Lines: \d+\r?\n([A-Za-z0-9+/=]{40,})]],
      keywords = { "PuTTY-User-Key-File" },
      severity = "critical", tags = { "key", "ssh" },
      window = 8192,
      examples = { hit = [[PuTTY-User-Key-File-2: ssh-rsa
Encryption: none
Comment: deploy
Public-Lines: 1
uPyXQEW88ad3DNBYjvsedonuSsddfrfifiUziXnFAAoeelK9mqmALOR2HcSGKgVP
Private-Lines: 1
8Kd0d3mS8gBlKv3azKgaS+m+x/SHuKBD/vok+nPTmZYl2dVAMH2vWD6qeSPt5Pv7
Private-MAC: e874ae7689447ab57a683536c4499d863386ce10
]], miss = [[PuTTY-User-Key-File-2: ssh-rsa
Encryption: none
Comment: deploy
Public-Lines: 1
Z3CL7csGZaF31DDxp63OHm1FZuG296c0xPbX+neGBuzSm6A8cVR06AxYpThGJWZh
]] },
    },
    {
      id = "xml-private-key",
      description = "RSA private key in .NET XML form",
      regex = [[<RSAKeyValue>\s*<Modulus>[A-Za-z0-9+/=]+</Modulus>\s*<Exponent>[A-Za-z0-9+/=]+</Exponent>\s*<P>([A-Za-z0-9+/=]{20,})</P>]],
      keywords = { "<RSAKeyValue>" },
      severity = "critical", tags = { "key", "xml" },
      window = 8192,
      examples = { hit = [[<RSAKeyValue><Modulus>bj11THnCMZCY7Bvqiy8CsT07Lq8TDIWG2x9aJTFMP9+2kUtMXhkPrSbbAjLGmsDx5StAZvlMz/Bk4opH1Dr8/h97s+F/vauP7/L7V21jxUdcfQm9+seB1qRmUR8AK3R2GgLLT/ZQISA/pQyOMqlfZZgZMnafy8hWskBf6wmxe1mb</Modulus><Exponent>AQAB</Exponent><P>VrNHMx1eOc3g/fp1Z5ibXt80nk8Btb2abplBpq8cJF5xgUskL/6GgebhbkXNNv+hOV48vsoUu19X5IQLJhQbtN==</P><Q>2FWXWD5KaPHI2ufKssJ/Sk+WzDNhY7AGbX6lTiDYHP9zyBylxLUTZtFf/VnV7ktOdSJcmeA+BHJ2m5qGeRzxWk==</Q></RSAKeyValue>]], miss = [[<RSAKeyValue><Modulus>dgeV6+iYplGODlYx5uVECweGThdgH9hmsOazM4n8PVGXpV9Wv4Esb7yeuCjVr5mXcj5RPD9oUsQChx5s4tI10FtdILQvH+nO69othB9KpGzU3HEEmXL1uhLsc4Rr4aKxU3f0BJxrxDwzkl/JwAryNzbi0hSQK/lb09rIFxUeuVaT</Modulus><Exponent>AQAB</Exponent></RSAKeyValue>]] },
    },
    {
      id = "age-secret-key",
      description = "age encryption secret key",
      regex = [[\b(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b]],
      keywords = { "AGE-SECRET-KEY-1" },
      severity = "critical", tags = { "key" },
      examples = { hit = [[AGE-SECRET-KEY-1UY8K05CRJXLUPGP09WT2XNSPPXVSPA0UXKXTZ38AL3888EGWWFAE2PC6ZE]], miss = [[AGE-SECRET-KEY-1RH4E04M5ER5FK0MQHXTY]] },
    },
    {
      id = "wireguard-private-key",
      description = "WireGuard private key",
      regex = [[(?i)\bPrivateKey\s*=\s*([A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=)]],
      keywords = { "PrivateKey" },
      -- An identifier in many APIs: the key's shape after it too.
      prefilter_regex = [[(?i)PrivateKey\s*=\s*[A-Za-z0-9+/]{42}]],
      severity = "critical", tags = { "key", "vpn" },
      examples = { hit = [[[Interface]
PrivateKey = P3zcCr1Y6ffeIIemGpb3EfKoNSvphIk7s4pqL0KJFlA=
]], miss = [[[Interface]
PublicKey = K6CXzU6M98NdFQCyXYbTuEPP+IKBLhcuiS4hX4TnCtA=
]] },
    },
    {
      id = "aws-access-key-id",
      description = "AWS access key id",
      regex = [[\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b]],
      keywords = { "AKIA", "ASIA", "ABIA", "ACCA" },
      severity = "high", tags = { "aws", "cloud" },
      entropy = 3.0,
      examples = { hit = [[aws_access_key_id = AKIA2VWIMRG6RI2GA2H7]], miss = [[aws_access_key_id = AKIAZJ2RHY45SWSW]] },
    },
    {
      id = "aws-secret-access-key",
      description = "AWS secret access key in an assignment",
      regex = [[(?i)aws_?(?:secret)_?(?:access)?_?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])]],
      keywords = { "aws_secret", "awssecret" },
      severity = "critical", tags = { "aws", "cloud" },
      entropy = 4.0,
      examples = { hit = [[aws_secret_access_key = YXPa/W4MxMs3WDlQPFPA2bdgG/MN33X7TfS5biDm]], miss = [[aws_secret_access_key = 0VZty1+Z4RlvUOUjNwoLR1uLAy0xhn]] },
    },
    {
      id = "aws-secret-near-id",
      description = "AWS secret access key next to its key id",
      regex = [[\b(?:AKIA|ASIA)[A-Z2-7]{16}\b[^\n]{0,80}?[\s,;:="']([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])]],
      keywords = { "AKIA", "ASIA" },
      severity = "critical", tags = { "aws", "cloud" },
      entropy = 4.3,
      examples = { hit = [[AKIAWC2AATATZGABML7R,sz0psundmjv+73hbPsETJveImiSy5XcgCYf4gEFC]], miss = [[AKIACKLUA5T2Q7EPYO2T,z5bpflkwylas]] },
    },
    {
      id = "aws-session-token",
      description = "AWS session token",
      regex = [[(?i)aws_?session_?token["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{100,})]],
      keywords = { "session_token", "sessiontoken" },
      severity = "high", tags = { "aws", "cloud" },
      entropy = 4.0,
      examples = { hit = [[AWS_SESSION_TOKEN=YUoQXQZip2SFXy7KSE3eJdRtEqlzIq47EuVTBZWAM8AD5qH4VFZBqplIXdsNbXlwDPyniUMyiNlCKqZKTZ7qJwdUS0d7FZTmxLoICfZfu3zMtWfNwD/G3SaoKfgFoeOASl1YCJlS24R5gA2q+yfHwuEHFhvTS0lzNrr+9EEa4rSMrsEQp2vt7ZAoLbU+AfhJMzoN5ouP]], miss = [[AWS_SESSION_TOKEN=${AWS_SESSION_TOKEN}]] },
    },
    {
      id = "aws-mws-key",
      description = "Amazon MWS auth token",
      regex = [[\b(amzn\.mws\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b]],
      keywords = { "amzn.mws." },
      severity = "high", tags = { "aws" },
      examples = { hit = [[mws_token: amzn.mws.eeb95210-ef2a-83fd-f6a0-b29872400c49]], miss = [[mws_token: amzn.mws.b5539ac5-ba7b]] },
    },
    {
      id = "alibaba-access-key-id",
      description = "Alibaba Cloud access key id",
      regex = [[\b(LTAI[A-Za-z0-9]{20})\b]],
      keywords = { "LTAI" },
      severity = "high", tags = { "cloud" },
      entropy = 3.0,
      examples = { hit = [[ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIiJ6x11qpdcgKZO60Tz5d]], miss = [[ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI8nFBFUktML]] },
    },
    {
      id = "facebook-access-token",
      description = "Facebook access token",
      regex = [[\b(EAACEdEose0cBA[0-9A-Za-z]{20,})]],
      keywords = { "EAACEdEose0cBA" },
      severity = "high", tags = { "social" },
      examples = { hit = [[fb_token = "EAACEdEose0cBAOfjSokiCOzfc2CEmnUxac1N21YGBjseQdGTA4veCaQ90l5UkysaCZKRwKmEf"]], miss = [[fb_token = "EAACEdEose0cBA"]] },
    },
    {
      id = "facebook-secret",
      description = "Facebook app secret",
      regex = [[(?i)(?:facebook|fb)[\w.-]{0,20}(?:secret|token|key)[\w.-]{0,10}["']?\s*[:=]\s*["']?([0-9a-f]{32})\b]],
      keywords = { "secret", "token", "key" },
      severity = "high", tags = { "social" },
      entropy = 3.0,
      -- The name's middle ({0,20}, the word, {0,10}) is 3 to 36 of [\w.-]:
      -- the same matches for vectorscan, without the alternation inside
      -- bounded repeats that cost the whole pass a third of its speed.
      prefilter_regex = [[(?i)(?:facebook|fb)[\w.-]{3,36}["']?\s*[:=]\s*["']?[0-9a-f]{32}]],
      examples = { hit = [[FACEBOOK_APP_SECRET=aed4c21a9dbf49a067e24bdb7ec83756]], miss = [[FACEBOOK_APP_ID=813413847387389]] },
    },
    {
      id = "twitter-bearer-token",
      description = "Twitter bearer token",
      regex = [[\b(AAAAAAAAAAAAAAAAAAAAA[A-Za-z0-9%]{30,})]],
      keywords = { "AAAAAAAAAAAAAAAAAAAAA" },
      severity = "high", tags = { "social" },
      entropy = 3.0,
      examples = { hit = [[TWITTER_BEARER=AAAAAAAAAAAAAAAAAAAAAShVG6LKf2AReZCi3GJGT1W8hO9UGgD1RzIk99mKEXfixXNdzpdxcaSM9nDthTiB64fN3mKh6U3wkxV1v]], miss = [[padding=AAAAAAAAAAAAAAAAAAAAA==]] },
    },
    {
      id = "twitter-secret",
      description = "Twitter API secret",
      regex = [[(?i)twitter[\w.-]{0,20}(?:secret|key)[\w.-]{0,10}["']?\s*[:=]\s*["']?([0-9a-zA-Z]{35,50})\b]],
      keywords = { "twitter" },
      severity = "high", tags = { "social" },
      entropy = 3.5,
      examples = { hit = [[twitter_consumer_secret: ZWVRa0qhpxGVH8wUFc0MwgwJuZMhc76RpqwmSCb1LChYbFheZq]], miss = [[twitter_consumer_secret: changeme]] },
    },
    {
      id = "twitter-access-token",
      description = "Twitter access token",
      regex = [[(?i)twitter[\w.-]{0,20}["']?\s*[:=]\s*["']?([0-9]{15,25}-[0-9a-zA-Z]{20,40})\b]],
      keywords = { "twitter" },
      severity = "high", tags = { "social" },
      entropy = 3.5,
      examples = { hit = [[twitter_access_token = 2284629484700527870-Z1celN0PRMz1E9kS2Czo39NHexvHnt5iLNcnk0xU]], miss = [[twitter_access_token = 7597655059753037902]] },
    },
    {
      id = "linkedin-client-secret",
      description = "LinkedIn client secret",
      regex = [[(?i)linkedin[\w.-]{0,20}secret[\w.-]{0,10}["']?\s*[:=]\s*["']?([A-Za-z0-9]{16})\b]],
      keywords = { "linkedin" },
      severity = "high", tags = { "social" },
      entropy = 3.0,
      examples = { hit = [[LINKEDIN_CLIENT_SECRET=UQjryreGqwKKHL9i]], miss = [[LINKEDIN_CLIENT_SECRET=Sc6J5Xg3]] },
    },
    {
      id = "github-pat",
      description = "GitHub personal access token (classic)",
      regex = [[\b(ghp_[A-Za-z0-9]{36})\b]],
      keywords = { "ghp_" },
      severity = "critical", tags = { "github", "scm" },
      entropy = 3.5,
      examples = { hit = [[GITHUB_TOKEN=ghp_mXBOKOgxYsYYp3Y8jRet9WvVxG2Opw3JTzvd]], miss = [[GITHUB_TOKEN=ghp_TvQu4YEGx5pZpwjina43]] },
    },
    {
      id = "github-fine-grained-pat",
      description = "GitHub fine-grained personal access token",
      regex = [[\b(github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b]],
      keywords = { "github_pat_" },
      severity = "critical", tags = { "github", "scm" },
      entropy = 3.5,
      examples = { hit = [[token: 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]], miss = [[token: github_pat_feZ04KvUiamrIP4aOu7bnu]] },
    },
    {
      id = "github-oauth-token",
      description = "GitHub OAuth access token",
      regex = [[\b(gho_[A-Za-z0-9]{36})\b]],
      keywords = { "gho_" },
      severity = "critical", tags = { "github", "scm" },
      entropy = 3.5,
      examples = { hit = [[oauth=gho_u3VbPFzNRZvld3AYcfONvXFMzq8D3ab7uKPu]], miss = [[oauth=gho_dANTU1vkfbjnjHX1fw0xBwIRL3JjQMKvoVN]] },
    },
    {
      id = "github-app-token",
      description = "GitHub App user-to-server or server-to-server token",
      regex = [[\b((?:ghu|ghs)_[A-Za-z0-9]{36})\b]],
      keywords = { "ghu_", "ghs_" },
      severity = "critical", tags = { "github", "scm" },
      entropy = 3.5,
      examples = { hit = [[GH_APP_TOKEN=ghs_q0TEWcXPtPXJTDJrxHH8riqaJEgPZXxjOozW]], miss = [[GH_APP_TOKEN=ghx_f7bNihdIGnJXlq8MxVj5l3V26XkHbwXTpC3F]] },
    },
    {
      id = "github-refresh-token",
      description = "GitHub refresh token",
      regex = [[\b(ghr_[A-Za-z0-9]{36,76})\b]],
      keywords = { "ghr_" },
      severity = "critical", tags = { "github", "scm" },
      entropy = 3.5,
      examples = { hit = [[refresh=ghr_nO6w5ZyDnuY5bgQUaeZP6zR3wdoKyA66y8QO3obqbqTBpownuWBPrt4FnKYkE373Xr9Wi0tsfvaF]], miss = [[refresh=ghr_35pkuRNM9CnLd4Yn]] },
    },
    {
      id = "github-secret-assignment",
      description = "GitHub client secret or token (hex)",
      regex = [[(?i)github[\w.-]{0,20}(?:secret|token)[\w.-]{0,10}["']?\s*[:=]\s*["']?([0-9a-f]{40})\b]],
      keywords = { "github" },
      severity = "high", tags = { "github", "scm" },
      entropy = 3.0,
      examples = { hit = [[GITHUB_CLIENT_SECRET=b1e5d490340494b35ec2daca1760147d301a233f]], miss = [[GITHUB_CLIENT_ID=4d05743bf2b672850882]] },
    },
    {
      id = "gitlab-pat",
      description = "GitLab personal access token",
      regex = [[\b(glpat-[A-Za-z0-9_-]{20})(?![A-Za-z0-9_-])]],
      keywords = { "glpat-" },
      severity = "critical", tags = { "gitlab", "scm" },
      entropy = 3.0,
      examples = { hit = [[token = "glpat-fzg0UIbPf6KQ0IZ2O1Xt"]], miss = [[token = "glpat-yy0jap6q"]] },
    },
    {
      id = "gitlab-pipeline-trigger-token",
      description = "GitLab pipeline trigger token",
      regex = [[\b(glptt-[0-9a-f]{40})(?![A-Za-z0-9_-])]],
      keywords = { "glptt-" },
      severity = "critical", tags = { "gitlab", "scm" },
      entropy = 3.0,
      examples = { hit = [[token = "glptt-c763211caeae0ffac7cb2c8a2788fbf742b65b75"]], miss = [[token = "glptt-j3lcuyx1"]] },
    },
    {
      id = "gitlab-runner-token",
      description = "GitLab runner authentication token",
      regex = [[\b(glrt-[A-Za-z0-9_-]{20})(?![A-Za-z0-9_-])]],
      keywords = { "glrt-" },
      severity = "critical", tags = { "gitlab", "scm" },
      entropy = 3.0,
      examples = { hit = [[token = "glrt-p0tGWnUTM5lJYL5o59wt"]], miss = [[token = "glrt-aix57px7"]] },
    },
    {
      id = "gitlab-deploy-token",
      description = "GitLab deploy token",
      regex = [[\b(gldt-[A-Za-z0-9_-]{20})(?![A-Za-z0-9_-])]],
      keywords = { "gldt-" },
      severity = "critical", tags = { "gitlab", "scm" },
      entropy = 3.0,
      examples = { hit = [[token = "gldt-RWGczaHhwNJPGEH4l-lz"]], miss = [[token = "gldt-i1sxc2yx"]] },
    },
    {
      id = "gitlab-feed-token",
      description = "GitLab feed token",
      regex = [[\b(glft-[A-Za-z0-9_-]{20})(?![A-Za-z0-9_-])]],
      keywords = { "glft-" },
      severity = "critical", tags = { "gitlab", "scm" },
      entropy = 3.0,
      examples = { hit = [[token = "glft-fL03GTEXqyViAQjk5WY1"]], miss = [[token = "glft-5bg33104"]] },
    },
    {
      id = "gitlab-oauth-app-secret",
      description = "GitLab OAuth application secret",
      regex = [[\b(gloas-[A-Za-z0-9_-]{64})(?![A-Za-z0-9_-])]],
      keywords = { "gloas-" },
      severity = "critical", tags = { "gitlab", "scm" },
      entropy = 3.0,
      examples = { hit = [[token = "gloas-wi4Y_rbDzZfLQX6plCjbn-lB6hzQ9h1r0gsPQyaxJHlOXGMY1gNMFW3GNzqgAV7_"]], miss = [[token = "gloas-jxvm39du"]] },
    },
    {
      id = "gitlab-runner-registration-token",
      description = "GitLab runner registration token",
      regex = [[\b(GR1348941[A-Za-z0-9_-]{20})(?![A-Za-z0-9_-])]],
      keywords = { "GR1348941" },
      severity = "critical", tags = { "gitlab", "scm" },
      entropy = 3.0,
      examples = { hit = [[token = "GR1348941bi0PeJC4LzA6Z4AAhx3p"]], miss = [[token = "GR1348941die5la9k"]] },
    },
    {
      id = "square-access-token",
      description = "Square access token",
      regex = [[\b((?:EAAA|sq0atp-)[A-Za-z0-9_-]{22,60})\b]],
      keywords = { "EAAA", "sq0atp-" },
      severity = "critical", tags = { "payment" },
      entropy = 3.5,
      examples = { hit = [[SQUARE_TOKEN=sq0atp--CLBusAm7mzlg1CG42thrf]], miss = [[SQUARE_TOKEN=sq0atp-u5LDOtNH]] },
    },
    {
      id = "square-oauth-secret",
      description = "Square OAuth secret",
      regex = [[\b(sq0csp-[0-9A-Za-z_-]{43})\b]],
      keywords = { "sq0csp-" },
      severity = "critical", tags = { "payment" },
      entropy = 3.5,
      examples = { hit = [[SQUARE_SECRET=sq0csp-PBtDYePWtLClz7tx3QZoeTpAjL_Sc-lz_JMlzr8IDMe]], miss = [[SQUARE_SECRET=sq0csp-maSytMgwQS59F]] },
    },
    {
      id = "stripe-secret-key",
      description = "Stripe live secret key",
      regex = [[\b(sk_live_[0-9a-zA-Z]{24,99})\b]],
      keywords = { "sk_live_" },
      severity = "critical", tags = { "payment" },
      entropy = 3.5,
      examples = { hit = [[STRIPE_KEY=sk_live_vVxlhY1tZeUJDgVJhYkMzDcc]], miss = [[STRIPE_KEY=pk_live_cGLgAPSiAK1wexUQUkxkQ8fv]] },
    },
    {
      id = "stripe-restricted-key",
      description = "Stripe live restricted key",
      regex = [[\b(rk_live_[0-9a-zA-Z]{24,99})\b]],
      keywords = { "rk_live_" },
      severity = "critical", tags = { "payment" },
      entropy = 3.5,
      examples = { hit = [[STRIPE_KEY=rk_live_a1P31Etjqgg4phjFrIIhuDpk]], miss = [[STRIPE_KEY=rk_live_KIcGqx8msz]] },
    },
    {
      id = "stripe-test-key",
      description = "Stripe test-mode secret key",
      regex = [[\b((?:sk|rk)_test_[0-9a-zA-Z]{24,99})\b]],
      keywords = { "sk_test_", "rk_test_" },
      severity = "low", tags = { "payment" },
      entropy = 3.5,
      examples = { hit = [[STRIPE_KEY=sk_test_Jni6pU3IGp4gag8dFYYSKnSV]], miss = [[STRIPE_KEY=pk_test_ofWkj1qbBzNHhsK4hfQLnopM]] },
    },
    {
      id = "stripe-webhook-secret",
      description = "Stripe webhook signing secret",
      regex = [[\b(whsec_[A-Za-z0-9]{32,})\b]],
      keywords = { "whsec_" },
      severity = "high", tags = { "payment", "webhook" },
      entropy = 3.5,
      examples = { hit = [[STRIPE_WEBHOOK_SECRET=whsec_XYGT0d0peMvgcnNXSl0tvfZWDL6lau87]], miss = [[STRIPE_WEBHOOK_SECRET=whsec_AYAcfYpjUGRk]] },
    },
    {
      id = "slack-bot-token",
      description = "Slack bot token",
      regex = [[\b(xoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24,34})\b]],
      keywords = { "xoxb-" },
      severity = "critical", tags = { "slack", "chat" },
      examples = { hit = [[SLACK_BOT_TOKEN=xoxb-252333510707-8519130561592-Z9FRXVFiq1S7t5dVD1YZRLkB]], miss = [[SLACK_BOT_TOKEN=xoxb-684981143339-DJp4FK67R4TdzQYzYORX8v0y]] },
    },
    {
      id = "slack-user-token",
      description = "Slack user token",
      regex = [[\b(xox[pe]-[0-9]{10,13}-[0-9]{10,13}-[0-9]{10,13}-[a-f0-9]{32})\b]],
      keywords = { "xoxp-", "xoxe-" },
      severity = "critical", tags = { "slack", "chat" },
      examples = { hit = [[token=xoxp-613596404790-176694725831-5679045142768-7361c5c8a4b57bc9fa65c00537e8b3c4]], miss = [[token=xoxp-461895744546-807750018674-4e1af408461c58790dd2cfb8a5f1b461]] },
    },
    {
      id = "slack-app-token",
      description = "Slack app-level token",
      regex = [[\b(xapp-\d-[A-Z0-9]+-\d+-[a-f0-9]{64})\b]],
      keywords = { "xapp-" },
      severity = "critical", tags = { "slack", "chat" },
      examples = { hit = [[SLACK_APP_TOKEN=xapp-1-AKT7KTDTYXL-4473957614565-cf836ed5a148fd28cbc938e019bb8723d39553ccaccfab54d946a2d207dc6844]], miss = [[SLACK_APP_TOKEN=xapp-1-AOP6HSCYSIY-9419984933415-2b023a60e4e81e11]] },
    },
    {
      id = "slack-legacy-token",
      description = "Slack legacy workspace or refresh token",
      regex = [[\b(xox[aors]-\d+-[A-Za-z0-9-]{20,})\b]],
      keywords = { "xoxa-", "xoxo-", "xoxr-", "xoxs-" },
      severity = "high", tags = { "slack", "chat" },
      entropy = 3.0,
      examples = { hit = [[legacy=xoxa-2-I0DhEosO7v9vHKonJY0ns1ZKITboXlbZGrBxe9Or]], miss = [[legacy=xoxa-2-short]] },
    },
    {
      id = "slack-webhook",
      description = "Slack incoming webhook URL",
      regex = [[https://hooks\.slack\.com/services/(T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24})\b]],
      keywords = { "hooks.slack.com" },
      severity = "high", tags = { "slack", "webhook" },
      examples = { hit = [[url: https://hooks.slack.com/services/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]], miss = [[url: https://hooks.slack.com/services/TM9SBBEWN0/BA8Q9WKUWT/]] },
    },
    {
      id = "google-api-key",
      description = "Google API key",
      regex = [[\b(AIza[0-9A-Za-z_-]{35})(?![0-9A-Za-z_-])]],
      keywords = { "AIza" },
      severity = "high", tags = { "google", "cloud" },
      entropy = 3.5,
      examples = { hit = [[GOOGLE_API_KEY=AIzanfwT1d6nRntU8_kRO8qnGXATGcyJ3Xu3rrb]], miss = [[GOOGLE_API_KEY=AIzaoBWdbl7fAjPR7_AaFATW]] },
    },
    {
      id = "gcp-service-account-key",
      description = "GCP service account key (JSON)",
      regex = [["type"\s*:\s*"service_account"[\s\S]{0,2000}?"private_key"\s*:\s*"(-----BEGIN PRIVATE KEY-----[^"]{64,})"]],
      keywords = { "service_account" },
      severity = "critical", tags = { "google", "cloud", "key" },
      window = 8192,
      examples = { hit = [[{
  "type": "service_account",
  "project_id": "shop-prod",
  "private_key_id": "c736ba80622598514f31c827129084bb54b8bb53",
  "private_key": "-----BEGIN PRIVATE KEY-----\nnmqz464ig8vZE88sp/WiEDaYCeFmzae7gZECf0Hft7c9nmxsuPnWajdkjgL6YaAdx6ApA2olTmlEmlVJMNLs/QyakjfoBX60Akchdr3hxL4GrGMSdPWmu4u8PJFb0cRDTQaERkuneO2RUip6uBgF0lBBKbH3pw4vKYFRGdlAHsiiYMjiibjUjso/J5wmGMY0w4m6RPAd\n-----END PRIVATE KEY-----\n"
}]], miss = [[{
  "type": "service_account",
  "project_id": "shop-prod",
  "client_email": "ci@shop-prod.iam.gserviceaccount.com"
}]] },
    },
    {
      id = "google-oauth-client-secret",
      description = "Google OAuth client secret",
      regex = [[\b(GOCSPX-[A-Za-z0-9_-]{28})(?![A-Za-z0-9_-])]],
      keywords = { "GOCSPX-" },
      severity = "critical", tags = { "google" },
      entropy = 3.5,
      examples = { hit = [[client_secret: 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]], miss = [[client_secret: GOCSPX-lZp_9wD24h]] },
    },
    {
      id = "google-oauth-access-token",
      description = "Google OAuth access token",
      regex = [[\b(ya29\.[0-9A-Za-z_-]{30,})]],
      keywords = { "ya29." },
      severity = "high", tags = { "google" },
      entropy = 3.5,
      examples = { hit = [[Authorization: ya29.pyiIU48ERhjC9BWoh3hEvOBmk9H76qj5OmAJUip89Gxbd8eD-rUsXPfVxDc6k5BeK4ryMOziZdvbU9Di9V_BBy8zN6ICPe0wR0cVuEatH68XrHEpJ1trrPhv]], miss = [[ya29.short]] },
    },
    {
      id = "firebase-cloud-messaging-key",
      description = "Firebase Cloud Messaging server key",
      regex = [[\b(AAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{134})(?![A-Za-z0-9_-])]],
      keywords = { ":APA91b" },
      severity = "high", tags = { "google" },
      entropy = 3.5,
      examples = { hit = [[FCM_KEY=AAAAD2vk50G:APA91bCtI0mg3ncLjKwr1jWMo5F-Vy3jGWxGE0UGjh8BPb48Rx7PD3lA0ZrDVUW-UqCBIoerZ1j86QTS3Ow9cuYVoLAFzVMGui6fzb0IdiawkFawDwHEcdoklzt8QjSOL19HQhkHuHli]], miss = [[FCM_KEY=AAAAgHqQR_s:APA91bygt2XLcDNj8mity57Dl83rbyBn6EH2QhdD]] },
    },
    {
      id = "sendgrid-api-key",
      description = "SendGrid API key",
      regex = [[\b(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])]],
      keywords = { "SG." },
      severity = "high", tags = { "mail" },
      entropy = 3.5,
      examples = { hit = [[SENDGRID_API_KEY=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]], miss = [[SENDGRID_API_KEY=SG.MiR3ksYmgeKrnjOu0vEwX2]] },
    },
    {
      id = "twilio-api-key",
      description = "Twilio API key",
      regex = [[\b(SK[0-9a-f]{32})\b]],
      keywords = { "SK" },
      severity = "high", tags = { "sms" },
      entropy = 3.2,
      examples = { hit = [[TWILIO_API_KEY=SKab37e328cf759ec646f3a708f4aa5a6d]], miss = [[TWILIO_API_KEY=SK107b0811a7a8b9bbcc9370d715498acg]] },
    },
    {
      id = "twilio-auth-token",
      description = "Twilio auth token",
      regex = [[(?i)twilio[\w.-]{0,20}(?:auth|token|secret)[\w.-]{0,10}["']?\s*[:=]\s*["']?([0-9a-f]{32})\b]],
      keywords = { "twilio" },
      severity = "high", tags = { "sms" },
      entropy = 3.2,
      examples = { hit = [[TWILIO_AUTH_TOKEN=d947a1b5a41eafe6ab7233a007b22f16]], miss = [[TWILIO_AUTH_TOKEN=ec9fc9fab9b32fed]] },
    },
    {
      id = "heroku-api-key",
      description = "Heroku API key",
      regex = [[(?i)heroku[\w.-]{0,20}(?:key|token|secret)[\w.-]{0,10}["']?\s*[:=]\s*["']?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b]],
      keywords = { "heroku" },
      severity = "high", tags = { "cloud" },
      examples = { hit = [[HEROKU_API_KEY=0766bb31-ed04-d259-b371-7bd5c2d6a9a5]], miss = [[HEROKU_APP_ID=f04c5503-b116-06e4-644e-0d4887d6e120]] },
    },
    {
      id = "heroku-api-key-v2",
      description = "Heroku API key (HRKU)",
      regex = [[\b(HRKU-AA[0-9a-zA-Z_-]{58})(?![0-9a-zA-Z_-])]],
      keywords = { "HRKU-" },
      severity = "high", tags = { "cloud" },
      entropy = 3.5,
      examples = { hit = [[HEROKU_API_KEY=HRKU-AARvEGDwDwzo7BI2g_a4li1sO6vBR0FzDu0T3MNuB5ksyOpLx194_8J8z8sv]], miss = [[HEROKU_API_KEY=HRKU-AADjTXiZmT]] },
    },
    {
      id = "mailchimp-api-key",
      description = "MailChimp API key",
      regex = [[\b([0-9a-f]{32}-us[0-9]{1,2})\b]],
      keywords = { "-us" },
      severity = "high", tags = { "mail" },
      entropy = 3.2,
      examples = { hit = [[MAILCHIMP_KEY=dabc4e01fbcd9504bca7a5c59340afef-us14]], miss = [[MAILCHIMP_KEY=8b0baf3a8c80bc2b08a9f5c026614497-eu14]] },
    },
    {
      id = "mandrill-api-key",
      description = "Mandrill API key",
      regex = [[(?i)mandrill[\w.-]{0,20}["']?\s*[:=]\s*["']?([A-Za-z0-9_-]{22})\b]],
      keywords = { "mandrill" },
      severity = "high", tags = { "mail" },
      entropy = 3.5,
      examples = { hit = [[MANDRILL_API_KEY=Ch3Hpnslt3yf-X2lwqMekh]], miss = [[MANDRILL_API_KEY=changeme]] },
    },
    {
      id = "mailgun-api-key",
      description = "Mailgun API key",
      regex = [[\b(key-[0-9a-z]{32})\b]],
      keywords = { "key-" },
      severity = "high", tags = { "mail" },
      entropy = 3.5,
      examples = { hit = [[MAILGUN_API_KEY=key-khcbukh3kglmwmxh1uz0q2o4blkljwd2]], miss = [[MAILGUN_API_KEY=key-7c29a22bvz6jd97j5lyk]] },
    },
    {
      id = "mailgun-private-key",
      description = "Mailgun private API key (new format)",
      regex = [[(?i)mailgun[\w.-]{0,20}["']?\s*[:=]\s*["']?([a-f0-9]{32}-[a-f0-9]{8}-[a-f0-9]{8})\b]],
      keywords = { "mailgun" },
      severity = "high", tags = { "mail" },
      examples = { hit = [[MAILGUN_KEY=00bd6cdaf5ac6860aa8a5f82f14d2d9d-0243c83d-e82eb31f]], miss = [[MAILGUN_KEY=96288b6d8eacf314914bc781ef02216e]] },
    },
    {
      id = "brevo-api-key",
      description = "Brevo (Sendinblue) API key",
      regex = [[\b(xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16})\b]],
      keywords = { "xkeysib-" },
      severity = "high", tags = { "mail" },
      examples = { hit = [[BREVO_KEY=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]], miss = [[BREVO_KEY=xkeysib-f65b669972d0626373936081d28a0db506573638acc02d384db001dc5bb4bb84]] },
    },
    {
      id = "generic-password",
      description = "Password in a key/value or YAML file",
      -- The name may have a prefix (smtp_password, DB_PASSWORD, dbPassword):
      -- no letter or digit before it, or a camel-case boundary.
      regex = [[(?:(?<![A-Za-z0-9])|(?<=[a-z0-9])(?=[A-Z]))(?i:password|passwd|passphrase|pwd|db_?pass|admin_?pass|root_?pass)(?![A-Za-z0-9])["']?[ \t]*(?::=|=>|[:=])[ \t]*["']?([^\s"'#;,`]{8,64})]],
      keywords = { "pass", "pwd" },
      severity = "high", tags = { "password", "generic" },
      entropy = 3.0,
      -- What vectorscan looks for: the name (whole: "pass" alone is in
      -- every "passed" and "bypass"), the assignment and the first 8
      -- characters of a value; cheaper than the expression itself.
      prefilter_regex = [=[(?i)(?:password|passwd|passphrase|pwd|db_?pass|admin_?pass|root_?pass)["']?[ \t]*[:=][=>]?[ \t]*["']?[^\s"'#;,`]{8}]=],
      value = "literal",
      allow = { [[^(?:true|false|null|none|required|optional)$]], [[^[a-z]+(?:_[a-z]+)+$]], [[^(?:/|\./|~/)[\w./-]+$]] },
      examples = { hit = [[db:
  password: "Tr0ub4dor&3horse"
]], miss = [[db:
  password: ${DB_PASSWORD}
]] },
    },
    {
      id = "generic-api-key",
      description = "API key, token or secret in an assignment",
      -- STRIPE_API_KEY, GITHUB_TOKEN, authToken, client_secret...: the name
      -- may have a prefix, as for generic-password. A hex value has its own,
      -- lower entropy floor (scan.c).
      regex = [[(?i)(?<!::)(?:(?<![a-z0-9])|(?-i:(?<=[a-z0-9])(?=[A-Z])))(?<!next|page|change|purchase|request|update|verification|continuation|cursor|csrf|xsrf|sync|client|session|idempotency|marker|resume|cancel|reset|invite|confirmation|public|pub)(?<!next[_.-]|page[_.-]|change[_.-]|request[_.-]|update[_.-]|continuation[_.-]|cursor[_.-]|csrf[_.-]|xsrf[_.-]|sync[_.-]|client[_.-]|session[_.-]|idempotency[_.-]|reset[_.-]|public[_.-])(?:api[_.-]?key|apikey|api[_.-]?secret|access[_.-]?key|secret[_.-]?key|client[_.-]?secret|app[_.-]?secret|auth[_.-]?key|access[_.-]?token|auth[_.-]?token|refresh[_.-]?token|api[_.-]?token|private[_.-]?token|token|secret|credentials?|creds)(?![a-z0-9])["']?[ \t]*(?::=|=>|[:=])[ \t]*["']?([A-Za-z0-9_.+/=~-]{16,128})]],
      keywords = { "key", "token", "secret" },
      severity = "medium", tags = { "generic" },
      entropy = 3.5,
      -- Every name above ends in one of these; "key" with what comes
      -- before it in the names, since "key" alone is in every C header.
      -- (":=" and "=>" as an operator of one or two characters.)
      prefilter_regex = [=[(?i)(?:(?:api|access|secret|auth)[_.-]?key|token|secret|creds|credentials?)["']?[ \t]*[:=][=>]?[ \t]*["']?[A-Za-z0-9_.+/=~-]{16}]=],
      value = "literal",
      -- A random key of 16 characters or more holds a digit (94 % at 16).
      -- A UUID names a thing (a request, a lock, a resource) far more often
      -- than it is a key; providers whose keys are UUIDs have their own rule.
      allow = { [[^[^0-9]+$]], [[^[a-z]+(?:[_.][a-z]+)+$]], [[^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$]] },
      examples = { hit = [[STRIPE_API_KEY="kkjjhLYZhktGKKgJFADIWa7dpBip7Wap"]], miss = [[api_key = "lhycpsmnkpybhvboqhbtfgcicykyckuc"]] },
    },
    {
      id = "basic-auth-url",
      description = "URL with a password",
      regex = [[\bhttps?://[^\s:/@"'$]{1,64}:([^\s:/@"']{3,64})@[A-Za-z0-9.-]+]],
      keywords = { "://" },
      -- "://" is in every URL of every comment: vectorscan looks for the
      -- user:password@ part as well.
      prefilter_regex = [=[://[^\s:/@"'$]{1,64}:[^\s:/@"']{3,64}@]=],
      severity = "high", tags = { "password", "url", "generic" },
      entropy = 2.5,
      examples = { hit = [[REGISTRY=https://ci:BWteGX7CpRjltBu76gTG@registry.corp.internal/v2]], miss = [[REGISTRY=https://ci@registry.corp.internal/v2]] },
    },
    {
      id = "database-url-password",
      description = "Database URL with a password",
      regex = [[\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|clickhouse|cockroachdb|couchdb|neo4j)://[^\s:/@"']*:([^\s:/@"']{3,})@[^\s"']+]],
      keywords = { "://" },
      prefilter_regex = [=[://[^\s:/@"']*:[^\s:/@"']{3,}@]=],
      severity = "critical", tags = { "database", "password" },
      entropy = 2.5,
      examples = { hit = [[DATABASE_URL=postgres://app:B7kLcFh2VPVk0OYdsG@db.internal:5432/shop]], miss = [[DATABASE_URL=postgres://app@db.internal:5432/shop]] },
    },
    {
      id = "jdbc-password",
      description = "JDBC URL with a password parameter",
      regex = [[(?i)jdbc:[a-z0-9]+:[^\s"']*[?&;]password=([^\s&;"']{4,})]],
      keywords = { "jdbc:" },
      severity = "high", tags = { "database", "password" },
      entropy = 2.5,
      examples = { hit = [[url=jdbc:mysql://db:3306/shop?user=app&password=cvdgHVVTmGzkoQnB]], miss = [[url=jdbc:mysql://db:3306/shop?user=app]] },
    },
    {
      id = "authorization-bearer",
      description = "Bearer token in an Authorization header",
      regex = [[(?i)authorization["']?\s*[:=]\s*["']?bearer\s+([A-Za-z0-9._~+/-]{20,}=*)]],
      keywords = { "bearer" },
      severity = "high", tags = { "http", "token" },
      entropy = 3.5,
      examples = { hit = [[curl -H "Authorization: Bearer H6lE7aCYmz0lKUQFIQCeZ13itkjhyHmW_Gym-5Li" https://api.corp]], miss = [[curl -H "Authorization: Bearer $TOKEN" https://api.corp]] },
    },
    {
      id = "authorization-basic",
      description = "Basic credentials in an Authorization header",
      regex = [[(?i)authorization["']?\s*[:=]\s*["']?basic\s+([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=.])]],
      keywords = { "basic" },
      -- The header's name, not the common word "basic".
      prefilter_regex = [=[(?i)authorization["']?\s*[:=]\s*["']?basic\s+[A-Za-z0-9+/]{8}]=],
      severity = "high", tags = { "http", "password" },
      entropy = 3.0,
      examples = { hit = [[Authorization: Basic 8qsi93qdxfjoPEgCISvU0Ju44waq==]], miss = [[Authorization: Basic $CREDS]] },
    },
    {
      id = "netrc-password",
      description = ".netrc machine password",
      regex = [[(?i)\bmachine\s+\S+\s+login\s+\S+\s+password\s+(\S{4,})]],
      keywords = { "machine" },
      -- "login ... password ...", rarer than the word "machine".
      prefilter_regex = [[(?i)\slogin\s+\S+\s+password\s+\S{4}]],
      severity = "high", tags = { "password" },
      value = "literal",
      entropy = 2.0,
      examples = { hit = [[machine api.heroku.com login ops@corp.io password fIUB3pO6jQ3qThhZyfQo]], miss = [[machine api.heroku.com login ops@corp.io]] },
    },
    {
      id = "pgpass-password",
      description = ".pgpass entry",
      regex = [[(?m)^[^:#\s]+:(?:\d+|\*):[^:\s]+:[^:\s]+:([^:\s]{4,})$]],
      keywords = { ":" },
      severity = "high", tags = { "database", "password" },
      entropy = 2.0,
      paths = { "*pgpass*" },
      examples = { hit = [[db.internal:5432:shop:app:ajc3wf3tLu26VYJ3
]], miss = [[db.internal:5432:shop:app
]], path = "home/app/.pgpass" },
    },
    {
      id = "htpasswd-hash",
      description = "htpasswd password hash",
      regex = [[(?m)^[A-Za-z0-9_.@-]+:(\$(?:apr1|2[aby]|5|6)\$[./A-Za-z0-9$]{20,}|\{SHA\}[A-Za-z0-9+/]{27}=)$]],
      keywords = { "$apr1$", "$2y$", "$2b$", "$2a$", "{SHA}", "$6$", "$5$" },
      severity = "medium", tags = { "password", "hash" },
      examples = { hit = [[admin:$apr1$7LC9PY81$KImtHnEUvixwGJLoNrQGiG
]], miss = [[admin:!locked
]] },
    },
    {
      id = "sshpass-password",
      description = "Password on an sshpass command line",
      regex = [[\bsshpass\s+-p\s*["']?([^\s"'$]{4,})]],
      keywords = { "sshpass" },
      severity = "high", tags = { "password", "ssh" },
      examples = { hit = [[sshpass -p bABQMlcIsrhXOT ssh root@10.0.0.5]], miss = [[sshpass -p "$SSHPASS" ssh root@10.0.0.5]] },
    },
    {
      id = "mysql-cli-password",
      description = "Password on a mysql command line",
      regex = [[\bmysql(?:dump|admin)?\b[^\n]*?\s(?:-p|--password=)([^\s"'$-][^\s"']{3,})]],
      keywords = { "mysql" },
      severity = "high", tags = { "password", "database" },
      examples = { hit = [[mysqldump -u root -pCXxHEpT73GIy shop > dump.sql]], miss = [[mysqldump -u root -p shop > dump.sql]] },
    },
    {
      id = "redis-requirepass",
      description = "Redis requirepass",
      regex = [[(?m)^\s*requirepass\s+["\']?([^\s"\']{4,})]],
      keywords = { "requirepass" },
      severity = "high", tags = { "password", "database" },
      entropy = 2.0,
      examples = { hit = [[requirepass Issz1Tc0qEuURnUC3wTtDxfW
]], miss = [[# requirepass foobared
]] },
    },
    {
      id = "php-define-password",
      description = "Password in a PHP define()",
      regex = [=[(?i)define\(\s*["'](?:DB_PASSWORD|DB_PASS|MYSQL_PASSWORD)["']\s*,\s*["']([^"']{4,})["']]=],
      keywords = { "define(" }, -- not "define": every C header is full of it
      severity = "high", tags = { "password", "php" },
      examples = { hit = [[define('DB_PASSWORD', 'xUPn0oYBPVRqOxSb');]], miss = [[define('DB_PASSWORD', getenv('DB_PASSWORD'));]] },
    },
    {
      id = "npm-access-token",
      description = "npm access token",
      regex = [[\b(npm_[A-Za-z0-9]{36})\b]],
      keywords = { "npm_" },
      severity = "critical", tags = { "npm", "registry" },
      entropy = 3.5,
      examples = { hit = [[//registry.npmjs.org/:_authToken=npm_rJdvxAcB9MH4Q39tZYovvEgUYVVlFgxmr5Fc]], miss = [[//registry.npmjs.org/:_authToken=npm_Ti5v2A39CsAjujPl]] },
    },
    {
      id = "npmrc-auth",
      description = "Registry credentials in .npmrc",
      regex = [[(?:_authToken|_auth|_password)\s*=\s*["']?([A-Za-z0-9+/=_.-]{16,})]],
      keywords = { "_auth", "_password" },
      severity = "high", tags = { "npm", "registry" },
      entropy = 3.5,
      paths = { "*npmrc*", "*yarnrc*" },
      examples = { hit = [[//npm.corp.internal/:_authToken=uTJhFQewg22ytVpoI4YGcYXxWbVoPQqeyAcDLmzE]], miss = [[//npm.corp.internal/:_authToken=${NPM_TOKEN}]], path = "home/ci/.npmrc" },
    },
    {
      id = "pypi-upload-token",
      description = "PyPI upload token",
      regex = [[\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})]],
      keywords = { "pypi-AgEIcHlwaS5vcmc" },
      severity = "critical", tags = { "pypi", "registry" },
      entropy = 3.5,
      examples = { hit = [[password = pypi-AgEIcHlwaS5vcmcD8PpePl6pEB4N1UbDoQZE2FQEWeMI897bgW7Dw8XunH4lN7BaillxVa306LSVvm-oVLACXTQJKkVoUPrQoRu1cUCZauz5UZHDw6vVhdWCPZf-8zwiwxHrvOL]], miss = [[password = pypi-AgEIcHlwaS5vcmc]] },
    },
    {
      id = "rubygems-api-key",
      description = "RubyGems API key",
      regex = [[\b(rubygems_[a-f0-9]{48})\b]],
      keywords = { "rubygems_" },
      severity = "critical", tags = { "registry" },
      examples = { hit = [[GEM_HOST_API_KEY=rubygems_4f3489967ea4bfe513214825007e2e756aa04ab220315989]], miss = [[GEM_HOST_API_KEY=rubygems_26e8019792f4cece]] },
    },
    {
      id = "nuget-api-key",
      description = "NuGet API key",
      regex = [[\b(oy2[a-z0-9]{43})\b]],
      keywords = { "oy2" },
      severity = "high", tags = { "registry" },
      entropy = 3.5,
      examples = { hit = [[NUGET_API_KEY=oy2morr6pitzcogn2x36w65bwznkw5zk7j1l46nmpwgqrw]], miss = [[NUGET_API_KEY=oy2h4synu1atqi99]] },
    },
    {
      id = "clojars-token",
      description = "Clojars deploy token",
      regex = [[\b(CLOJARS_[a-z0-9]{60})\b]],
      keywords = { "CLOJARS_" },
      severity = "high", tags = { "registry" },
      examples = { hit = [[CLOJARS_PASSWORD=CLOJARS_iksg1311mgj0l6juo1yrjglmk48m265gbm2cg81ntolwxg4ektjq9gddmpnf]], miss = [[CLOJARS_PASSWORD=CLOJARS_qqfq5lqat3]] },
    },
    {
      id = "docker-config-auth",
      description = "Registry auth in a Docker config.json",
      regex = [["auth"\s*:\s*"([A-Za-z0-9+/]{16,}={0,2})"]],
      keywords = { "\"auth\"" },
      severity = "critical", tags = { "docker", "registry" },
      entropy = 3.0,
      examples = { hit = [[{"auths": {"registry.corp.internal": {"auth": "CVF0oCboQn5+cCASeOX0YCN1j438Jw00BgB7FpkV"}}}]], miss = [[{"auths": {"registry.corp.internal": {"auth": ""}}}]] },
    },
    {
      id = "docker-hub-pat",
      description = "Docker Hub personal access token",
      regex = [[\b(dckr_pat_[A-Za-z0-9_-]{27})(?![A-Za-z0-9_-])]],
      keywords = { "dckr_pat_" },
      severity = "critical", tags = { "docker", "registry" },
      entropy = 3.5,
      examples = { hit = [[DOCKERHUB_TOKEN=dckr_pat_3bbH_uy8qM3AsYaLcW4PDRiqgkK]], miss = [[DOCKERHUB_TOKEN=dckr_pat_fLNuoli]] },
    },
    {
      id = "artifactory-api-key",
      description = "JFrog Artifactory API key",
      regex = [[\b(AKCp[A-Za-z0-9]{69})\b]],
      keywords = { "AKCp" },
      severity = "high", tags = { "registry" },
      entropy = 3.5,
      examples = { hit = [[ARTIFACTORY_API_KEY=AKCp7tbXU6xTlNzOGVA5hhHDtF9CygB7oymuEPT1yzHWJr1hLcPCq37mjCyWNrxjMHkBj8r51]], miss = [[ARTIFACTORY_API_KEY=AKCpphJbAfcNC]] },
    },
    {
      id = "k8s-service-account-token",
      description = "Kubernetes service-account token",
      regex = [[\b(eyJ[A-Za-z0-9_-]{10,}\.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,})]],
      keywords = { "eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50" },
      severity = "critical", tags = { "kubernetes", "jwt" },
      examples = { hit = [[token: eyJhbGciOiJSUzI1NiIsImtpZCI6IkM4innZMcWUq8lcdtCkly.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50jrL14GEOgm0Nhom2iBJ-Lx3cK6PMJkm-RDVoOLNVF0JE37GArqbkGwUHyZ7wmMnx81fyYY2zVKZZYyXsR7ekEjwUI68QNVxwvltB9RntsCQKMkIAYb3CW7b4WamDZGEdm71lF5KBhVepc_sZt7ISZuylQ3yLPgVneQGHJ35577OowoFqArA-QyQ59fwhw5ji5dc90l0D.rg0ERN_1YhbPe3zCQbdmh2_-VmWObXH0i-Wn_mZn-3do8Mf1Ja8FS7WnLgQNEZd36s9MfLbsPhFdvHEWCPsmF4]], miss = [[token: eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50]] },
    },
    {
      id = "kubeconfig-client-key",
      description = "Client key embedded in a kubeconfig",
      regex = [[client-key-data:\s*["\']?([A-Za-z0-9+/=]{40,})]],
      keywords = { "client-key-data" },
      severity = "critical", tags = { "kubernetes", "key" },
      entropy = 4.0,
      examples = { hit = [[users:
- name: admin
  user:
    client-key-data: XSt5wKVcI/gpuaYiPQjtWrMfp6s+pBtNDagHmx4PqxOYs5JGxrVtFcpzNaNPmK7u4nlSZxuAjalZkqF6g05odYRzE3S6UqXiL1KLpB3P4Ky9MWlp5i42G/HYnDu3ya9WRWpkYtN0qKP57K9rwGc0dJ/VB2c70zllCNWz1V63UXnCiNo50S1vE2QGXO/5e/AguhSMkBE/
]], miss = [[users:
- name: admin
  user:
    client-certificate-data: M40jfiwAlWtMUisP2Cpfk+PeZJV5DIx7xu6SrYiyMUJEmQXDObb43VM/DCMAS9TWkbdXO/A3A+e8BP8aHLr4AK+xzNYRcmLSysw0KoVsmMG0I6KRGbCQDPz3HRdNKbIrBUoVRpx2Gl5/NUfR1Hx8/QrFHmEFFezEq/S/VhyD28yfRfkJSp+twmtWqMBQ8k9RYASc++zz
]] },
    },
    {
      id = "kubeconfig-token",
      description = "Bearer token in a kubeconfig user",
      regex = [[(?m)^\s*user:\s*\n\s+token:\s*["\']?([A-Za-z0-9_.-]{20,})]],
      keywords = { "token:" },
      severity = "critical", tags = { "kubernetes", "token" },
      entropy = 3.5,
      window = 512,
      examples = { hit = [[users:
- name: ci
  user:
    token: p6CmRtnyOUk0nfMX78IRMdy_wkAS2yikfqc_4GJd0IfIr7AA
]], miss = [[users:
- name: ci
  user:
    tokenFile: /var/run/secrets/token
]] },
    },
    {
      id = "jwt",
      description = "JSON Web Token",
      regex = [[\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,})]],
      keywords = { "eyJ" },
      severity = "medium", tags = { "jwt", "token" },
      examples = { hit = [[session=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJFsdIq_0Ua31hn-fZr-_wsZq1JIkEo6UmxBrclQDO.Dpg1xel99B0MAs78vfSAQpA4npQsgIa-1gqQ21i3EUY]], miss = [[session=eyJhbGciOiJIUzI1NiJ9.payload.sig]] },
    },
    {
      id = "azure-storage-account-key",
      description = "Azure storage account key",
      regex = [[(?i)AccountKey=([A-Za-z0-9+/]{86}==)]],
      keywords = { "AccountKey=" },
      severity = "critical", tags = { "azure", "cloud" },
      entropy = 4.0,
      examples = { hit = [[DefaultEndpointsProtocol=https;AccountName=shop;AccountKey=s2HVMl4cPoY/5wpUeEbtgK7PhEE5G84XoDxUoS6sh2Bi48qmb10FpD4RBPl4xQiPcoG0wRe5pPAvNtIGJ5tLH4==;EndpointSuffix=core.windows.net]], miss = [[DefaultEndpointsProtocol=https;AccountName=shop;EndpointSuffix=core.windows.net]] },
    },
    {
      id = "azure-ad-client-secret",
      description = "Azure AD (Entra ID) client secret",
      regex = [[(?:^|[\s"\'=:])([A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])]],
      keywords = { "Q~" },
      severity = "critical", tags = { "azure", "cloud" },
      entropy = 3.5,
      examples = { hit = [[AZURE_CLIENT_SECRET=n6M8Q~kLmCi4nUvlz0Wtz2EzjXx5dB06Pql6HvRn]], miss = [[AZURE_CLIENT_SECRET=yr08Q~ii46xS0DGH]] },
    },
    {
      id = "azure-sas-token",
      description = "Azure shared access signature",
      regex = [[\bsv=\d{4}-\d\d-\d\d&[^\s"']*?\bsig=([A-Za-z0-9%+/]{30,}(?:%3D|=)?)]],
      keywords = { "sig=" },
      severity = "high", tags = { "azure", "cloud" },
      entropy = 3.5,
      examples = { hit = [[https://shop.blob.core.windows.net/c?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01&sig=MnilPvRXIqaRTVBle9qfng0sJFuMps0rYwRYSYdSV4K%3D]], miss = [[https://shop.blob.core.windows.net/c?sv=2022-11-02&ss=b&srt=co&sp=rl]] },
    },
    {
      id = "azure-service-bus-key",
      description = "Azure Service Bus / Event Hubs shared access key",
      regex = [[Endpoint=sb://[^;\s]+;SharedAccessKeyName=[^;\s]+;SharedAccessKey=([A-Za-z0-9+/=]{43,44})]],
      keywords = { "SharedAccessKey=" },
      severity = "critical", tags = { "azure", "cloud" },
      entropy = 4.0,
      examples = { hit = [[Endpoint=sb://shop.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=ofcvHk3yE+R6fNGpYTMmzPKJIlDfkWSx3RIFvLwowdE=]], miss = [[Endpoint=sb://shop.servicebus.windows.net/;SharedAccessKeyName=Root]] },
    },
    {
      id = "azure-devops-pat",
      description = "Azure DevOps personal access token",
      regex = [[(?i)(?:azure|ado|devops)[\w.-]{0,20}(?:pat|token)[\w.-]{0,10}["']?\s*[:=]\s*["']?([a-z2-7]{52})\b]],
      keywords = { "azure", "ado", "devops" },
      severity = "critical", tags = { "azure", "scm" },
      entropy = 3.5,
      examples = { hit = [[AZURE_DEVOPS_PAT=x6i25kcxfbujbdlitsgk2jsuli4k4zlityiupzxfv5ghqgjvu2bg]], miss = [[AZURE_DEVOPS_PAT=$(System.AccessToken)]] },
    },
    {
      id = "hashicorp-vault-token",
      description = "HashiCorp Vault service or batch token",
      regex = [[\b(hvs\.[A-Za-z0-9_-]{90,120}|hvb\.[A-Za-z0-9_-]{90,300})(?![A-Za-z0-9_-])]],
      keywords = { "hvs.", "hvb." },
      severity = "critical", tags = { "vault" },
      entropy = 3.5,
      examples = { hit = [[VAULT_TOKEN=hvs.mx1HOhsJpVSRt66fRMPmOhTZTU5JrjNky3ffKx0lrFnr4aEgCbEtWtuY9JaDOM_eU3q5qQa_tbR9YVd-fp8jlZPDH5k44NS]], miss = [[VAULT_TOKEN=hvs._B3j0pSq2AECECRcZJKh]] },
    },
    {
      id = "terraform-cloud-token",
      description = "Terraform Cloud API token",
      regex = [[\b([A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})(?![A-Za-z0-9_=-])]],
      keywords = { ".atlasv1." },
      severity = "critical", tags = { "terraform" },
      entropy = 3.5,
      examples = { hit = [[token = "aHAt6RYJyMUtWV.atlasv1.v867KZfm7Pxd_wDIVoQaTSXoRQQNswci7OCnaVB0HQGdjHUjWGcS1dLGcVghE6mRjGS"]], miss = [[token = "gj9eVYZ2DCYpl7.atlasv1."]] },
    },
    {
      id = "digitalocean-pat",
      description = "DigitalOcean personal access token",
      regex = [[\b(dop_v1_[a-f0-9]{64})\b]],
      keywords = { "dop_v1_" },
      severity = "critical", tags = { "cloud" },
      examples = { hit = [[DO_TOKEN=dop_v1_8af8d62014ea5dd9d602448e500ba01d8773e6273773e3adaf5cf5ace533ef32]], miss = [[DO_TOKEN=dop_v1_7b42dffc4df5e935ab777ecfd467ba22]] },
    },
    {
      id = "digitalocean-oauth-token",
      description = "DigitalOcean OAuth token",
      regex = [[\b(doo_v1_[a-f0-9]{64})\b]],
      keywords = { "doo_v1_" },
      severity = "critical", tags = { "cloud" },
      examples = { hit = [[DO_TOKEN=doo_v1_93f5ee0c21d6046bda6b68607a119030cdeb0e415ea8e09ab022e0d3f2380c27]], miss = [[DO_TOKEN=doo_v1_c73a0d5025775aac1bd4f6906ad6e791]] },
    },
    {
      id = "digitalocean-refresh-token",
      description = "DigitalOcean refresh token",
      regex = [[\b(dor_v1_[a-f0-9]{64})\b]],
      keywords = { "dor_v1_" },
      severity = "critical", tags = { "cloud" },
      examples = { hit = [[DO_TOKEN=dor_v1_ac7dc223393f1216147dc78b4ae5e8e1967f9b04237405f508bc6f087a4d8baa]], miss = [[DO_TOKEN=dor_v1_409f072fe6f43e30a56c2069235eb36c]] },
    },
    {
      id = "cloudflare-api-token",
      description = "Cloudflare API token",
      regex = [[(?i)cloudflare[\w.-]{0,20}["']?\s*[:=]\s*["']?([A-Za-z0-9_-]{40})(?![A-Za-z0-9_-])]],
      keywords = { "cloudflare" },
      severity = "high", tags = { "cloud" },
      entropy = 3.5,
      examples = { hit = [[CLOUDFLARE_API_TOKEN=JzHZo1DGW0m2xurJtsA-vAExsYj8SOlCicdmknVE]], miss = [[CLOUDFLARE_ZONE=corp.io]] },
    },
    {
      id = "cloudflare-origin-ca-key",
      description = "Cloudflare Origin CA key",
      regex = [[\b(v1\.0-[a-f0-9]{24}-[a-f0-9]{146})\b]],
      keywords = { "v1.0-" },
      severity = "high", tags = { "cloud" },
      examples = { hit = [[CF_ORIGIN_CA_KEY=v1.0-dabcd519665ce7df72fdd89d-8f1efb0f5993ff225eebf8ac4e02b94baadf0446b7cac4e17a1429bdf9cb6877f85f36f2d8233bf7f2fb84f4156f47f8e03c8793918574e4f046b991ae27c8e483476e53aeac5548c0]], miss = [[CF_ORIGIN_CA_KEY=v1.0-f322d573771a22cb3143fea2]] },
    },
    {
      id = "databricks-token",
      description = "Databricks API token",
      regex = [[\b(dapi[a-f0-9]{32}(?:-\d)?)\b]],
      keywords = { "dapi" },
      severity = "high", tags = { "cloud", "data" },
      entropy = 3.0,
      examples = { hit = [[DATABRICKS_TOKEN=dapia23c3a1781ab3f7f366404002588633a]], miss = [[DATABRICKS_TOKEN=dapi7056d1337512]] },
    },
    {
      id = "planetscale-password",
      description = "PlanetScale password",
      regex = [[\b(pscale_pw_[A-Za-z0-9_.-]{43})(?![A-Za-z0-9_.-])]],
      keywords = { "pscale_pw_" },
      severity = "critical", tags = { "database" },
      entropy = 3.5,
      examples = { hit = [[DB_PASSWORD=pscale_pw_nKGWZT8eEi5hV37W2xgP8btcHO-7lKoGqdCX-ETQGrM]], miss = [[DB_PASSWORD=pscale_pw_VFNjddMR4HMuW]] },
    },
    {
      id = "planetscale-token",
      description = "PlanetScale API token",
      regex = [[\b(pscale_tkn_[A-Za-z0-9_.-]{43})(?![A-Za-z0-9_.-])]],
      keywords = { "pscale_tkn_" },
      severity = "critical", tags = { "database" },
      entropy = 3.5,
      examples = { hit = [[PLANETSCALE_TOKEN=pscale_tkn_UDl6noBGeM__18cTKe7g_YaPTzlc8TFulYdVWnfeX5c]], miss = [[PLANETSCALE_TOKEN=pscale_tkn_sfSplvylI70Rs]] },
    },
    {
      id = "supabase-token",
      description = "Supabase personal access token",
      regex = [[\b(sbp_[a-f0-9]{40})\b]],
      keywords = { "sbp_" },
      severity = "critical", tags = { "database" },
      examples = { hit = [[SUPABASE_ACCESS_TOKEN=sbp_5b032e3a5a4e16432cbf2a54fa897e8d97559fbc]], miss = [[SUPABASE_ACCESS_TOKEN=sbp_28f189323f4a1df652f4]] },
    },
    {
      id = "flyio-token",
      description = "Fly.io access token",
      regex = [[\b(fo1_[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])]],
      keywords = { "fo1_" },
      severity = "high", tags = { "cloud" },
      entropy = 3.5,
      examples = { hit = [[FLY_API_TOKEN=fo1_NLo7-qXcSWfGjVu_EK4ouILCGb0VUjI_35igTjsh-HC]], miss = [[FLY_API_TOKEN=fo1_hRcRJznmTLjp7]] },
    },
    {
      id = "doppler-token",
      description = "Doppler token",
      regex = [[\b(dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44})\b]],
      keywords = { "dp.pt.", "dp.st.", "dp.sa.", "dp.ct." },
      severity = "critical", tags = { "secrets-manager" },
      entropy = 3.5,
      examples = { hit = [[DOPPLER_TOKEN=dp.pt.Wpx9r273dU2M2peR8SPnyBtMxHY3x5IunaYXJPUPLeF]], miss = [[DOPPLER_TOKEN=dp.pt.em5UxGEamKOnd]] },
    },
    {
      id = "pulumi-token",
      description = "Pulumi access token",
      regex = [[\b(pul-[a-f0-9]{40})\b]],
      keywords = { "pul-" },
      severity = "critical", tags = { "cloud" },
      examples = { hit = [[PULUMI_ACCESS_TOKEN=pul-a54b4b6e5a2af69f111ea25bcb26ee8f4642cd11]], miss = [[PULUMI_ACCESS_TOKEN=pul-d4148d3eddac8164b6b1]] },
    },
    {
      id = "telegram-bot-token",
      description = "Telegram bot token",
      regex = [[\b([0-9]{8,10}:AA[0-9A-Za-z_-]{33})(?![0-9A-Za-z_-])]],
      keywords = { ":AA" },
      severity = "high", tags = { "chat" },
      entropy = 3.5,
      examples = { hit = [[TELEGRAM_TOKEN=5524635881:AAJ_0QLC6T21kLo9sSxxRDDFx7sGkj-24lU]], miss = [[TELEGRAM_TOKEN=7511161545:ABGcAqiEV6v3dqyVKIO3r2s-JzpJ2LJfjAt]] },
    },
    {
      id = "discord-bot-token",
      description = "Discord bot token",
      regex = [[\b([MN][A-Za-z\d]{23,25}\.[\w-]{6}\.[\w-]{27,38})\b]],
      -- Found where the line names Discord, as gitleaks and TruffleHog do:
      -- the token has no literal part, and an expression of character
      -- classes alone makes vectorscan run its slowest engine over every
      -- byte of every file (a third of the whole scan on /usr/include).
      keywords = { "discord" },
      severity = "high", tags = { "chat" },
      entropy = 3.5,
      examples = { hit = [[DISCORD_TOKEN=MJXudfjF7HW0PnylGtmZdonO.rek-To.8OYe1fXSfKxWgzerucXcvCo3wb0]], miss = [[DISCORD_TOKEN=M9YF32cn18EfnhzYeLLDocSD.wX9k2L]] },
    },
    {
      id = "discord-webhook",
      description = "Discord webhook URL",
      regex = [[https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/([A-Za-z0-9_-]{60,68})]],
      keywords = { "discord" },
      severity = "high", tags = { "chat", "webhook" },
      examples = { hit = [[https://discord.com/api/webhooks/706589893470125807/6YL3BebE7mqleClrV0dUo17x0xo4l9TVmlxU7z9s8xAQE51M-Yb1ZC938U-bBSKKvAil]], miss = [[https://discord.com/api/webhooks/352182048524378391/]] },
    },
    {
      id = "teams-webhook",
      description = "Microsoft Teams incoming webhook URL",
      regex = [[(https://[a-z0-9-]+\.webhook\.office\.com/webhookb2/[a-z0-9-]{36}@[a-z0-9-]{36}/IncomingWebhook/[a-f0-9]{32}/[a-z0-9-]{36})]],
      keywords = { "webhook.office.com" },
      severity = "high", tags = { "chat", "webhook" },
      examples = { hit = [[https://corp.webhook.office.com/webhookb2/302e955d-5242-d19e-082c-8f245f50ab14@62115680-36ba-2f4b-e3f2-5f27556a376a/IncomingWebhook/0a2bb2b9b7c84790482a0ff2488f657e/b08803ff-9e25-f498-3c02-8716eca5cf68]], miss = [[https://corp.webhook.office.com/webhookb2/f5a8250e-9d6b-e129-8e41-9d48dbeb0320]] },
    },
    {
      id = "shopify-access-token",
      description = "Shopify access token",
      regex = [[\b(shpat_[a-fA-F0-9]{32})\b]],
      keywords = { "shpat_" },
      severity = "critical", tags = { "commerce" },
      examples = { hit = [[SHOPIFY_TOKEN=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]], miss = [[SHOPIFY_TOKEN=shpat_c899da3539bb23f8]] },
    },
    {
      id = "shopify-custom-app-token",
      description = "Shopify custom app access token",
      regex = [[\b(shpca_[a-fA-F0-9]{32})\b]],
      keywords = { "shpca_" },
      severity = "critical", tags = { "commerce" },
      examples = { hit = [[SHOPIFY_TOKEN=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]], miss = [[SHOPIFY_TOKEN=shpca_1f793c2f13b7413d]] },
    },
    {
      id = "shopify-private-app-token",
      description = "Shopify private app access token",
      regex = [[\b(shppa_[a-fA-F0-9]{32})\b]],
      keywords = { "shppa_" },
      severity = "critical", tags = { "commerce" },
      examples = { hit = [[SHOPIFY_TOKEN=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]], miss = [[SHOPIFY_TOKEN=shppa_a9b6f9e79ba59c3a]] },
    },
    {
      id = "shopify-shared-secret",
      description = "Shopify shared secret",
      regex = [[\b(shpss_[a-fA-F0-9]{32})\b]],
      keywords = { "shpss_" },
      severity = "critical", tags = { "commerce" },
      examples = { hit = [[SHOPIFY_TOKEN=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]], miss = [[SHOPIFY_TOKEN=shpss_87c4007129d42755]] },
    },
    {
      id = "openai-api-key",
      description = "OpenAI API key",
      regex = [[\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,})(?![A-Za-z0-9_-])]],
      keywords = { "T3BlbkFJ" },
      severity = "critical", tags = { "ai" },
      entropy = 3.5,
      examples = { hit = [[OPENAI_API_KEY=sk-proj-FEjfkBywelKtiurlWMmaKRfemqzWJBotqe7GudzGT3BlbkFJf8U5buUq16_ey-0AQYdCNB6CqkBmX5v-lSodxZMs]], miss = [[OPENAI_API_KEY=sk-proj-rsqylHG_MZlMhbOjK1kjoRAswC1sSxW2ak1hcoqx]] },
    },
    {
      id = "anthropic-api-key",
      description = "Anthropic API key",
      regex = [[\b(sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{80,100}AA)(?![A-Za-z0-9_-])]],
      keywords = { "sk-ant-" },
      severity = "critical", tags = { "ai" },
      entropy = 3.5,
      examples = { hit = [[ANTHROPIC_API_KEY=sk-ant-api03-oMPEdoyyZfl9VgxkjdYoETGd7G3MWhYl1qnZJYbWhzFDcywNTpclmSi5deyPOtbkbY1wSBGxQ417pDjJw9U95-FaNAfZRAA]], miss = [[ANTHROPIC_API_KEY=sk-ant-api03-H1sT1sTz_Q0Re]] },
    },
    {
      id = "huggingface-token",
      description = "Hugging Face access token",
      regex = [[\b(hf_[A-Za-z]{34})\b]],
      keywords = { "hf_" },
      severity = "high", tags = { "ai" },
      entropy = 3.5,
      examples = { hit = [[HF_TOKEN=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]], miss = [[HF_TOKEN=hf_aSwAHFvmvSlZoY]] },
    },
    {
      id = "linear-api-key",
      description = "Linear API key",
      regex = [[\b(lin_api_[A-Za-z0-9]{40})\b]],
      keywords = { "lin_api_" },
      severity = "high", tags = { "saas" },
      entropy = 3.5,
      examples = { hit = [[LINEAR_API_KEY=lin_api_uFxF15hAo0aRFhDO9M7VzJFegSWwHMkN47cBmrEx]], miss = [[LINEAR_API_KEY=lin_api_liYrXYuvM7]] },
    },
    {
      id = "postman-api-key",
      description = "Postman API key",
      regex = [[\b(PMAK-[a-f0-9]{24}-[a-f0-9]{34})\b]],
      keywords = { "PMAK-" },
      severity = "high", tags = { "saas" },
      examples = { hit = [[POSTMAN_API_KEY=PMAK-a0729a3671fd653e7d43942f-04e6869e61a01f345d0186fab38a2171b7]], miss = [[POSTMAN_API_KEY=PMAK-429ef3038e8abd8ed7ba1c96]] },
    },
    {
      id = "atlassian-api-token",
      description = "Atlassian API token",
      regex = [[\b(ATATT3[A-Za-z0-9_=-]{186})(?![A-Za-z0-9_=-])]],
      keywords = { "ATATT3" },
      severity = "high", tags = { "saas", "scm" },
      entropy = 3.5,
      examples = { hit = [[JIRA_TOKEN=ATATT3zbwJtQ6iPr_q3JWtLnhlY5csqcFIvD8a_e_iZQDs3otpOI1YhChPeROWMbVu9WIKYY8tRDmt0dIXlLA6OdiFRswD_rIPOsJk19NXTcD_a-v56-VoD7BQgLIYK8LjfVuYqUCWv4Kjdco3N9rs3DU7j1q8tcKrvtfiLcnMPOaLlLUQCYUCz248Nt8CmZ]], miss = [[JIRA_TOKEN=ATATT3H2UVsXxaRNTateN6LcUbR_lt9u2-O8_9QAWW]] },
    },
    {
      id = "bitbucket-app-password",
      description = "Bitbucket app password",
      regex = [[\b(ATBB[A-Za-z0-9]{32})\b]],
      keywords = { "ATBB" },
      severity = "high", tags = { "scm" },
      entropy = 3.5,
      examples = { hit = [[BITBUCKET_APP_PASSWORD=ATBBa5S8VXgy8w2B5MKcWIs7He75YKnxUzUc]], miss = [[BITBUCKET_APP_PASSWORD=ATBBWCANhm2I4jU3]] },
    },
    {
      id = "sentry-org-token",
      description = "Sentry organization auth token",
      regex = [[\b(sntrys_eyJ[A-Za-z0-9+/=_-]{80,})]],
      keywords = { "sntrys_" },
      severity = "high", tags = { "monitoring" },
      entropy = 3.5,
      examples = { hit = [[SENTRY_AUTH_TOKEN=sntrys_eyJB-7U_62_EwEfWPMyV-nJDaNcjCX_XX5FU1KURt0AhxkMrW-CGp5xaTJxggPHUyWzej12b10TE0wbu0q9BNyGnenMIOw5KiVjOTtLf2-nrgOQiJtmuZ0hlTe6]], miss = [[SENTRY_AUTH_TOKEN=sntrys_eyJO-YMZSSR3ZAkTy9CKoFo]] },
    },
    {
      id = "sentry-user-token",
      description = "Sentry user auth token",
      regex = [[\b(sntryu_[a-f0-9]{64})\b]],
      keywords = { "sntryu_" },
      severity = "high", tags = { "monitoring" },
      examples = { hit = [[SENTRY_AUTH_TOKEN=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]], miss = [[SENTRY_AUTH_TOKEN=sntryu_45aeae08b2104c5e53a224f4]] },
    },
    {
      id = "newrelic-user-key",
      description = "New Relic user API key",
      regex = [[\b(NRAK-[A-Z0-9]{27})\b]],
      keywords = { "NRAK-" },
      severity = "high", tags = { "monitoring" },
      entropy = 3.5,
      examples = { hit = [[NEW_RELIC_API_KEY=NRAK-9HV1C65IYDQGCQN6IKTNWOF17GX]], miss = [[NEW_RELIC_API_KEY=NRAK-SSJ06RDSEIDSX1HU9]] },
    },
    {
      id = "newrelic-insert-key",
      description = "New Relic insert key",
      regex = [[\b(NRII-[A-Za-z0-9_-]{32})(?![A-Za-z0-9_-])]],
      keywords = { "NRII-" },
      severity = "high", tags = { "monitoring" },
      entropy = 3.5,
      examples = { hit = [[NEW_RELIC_INSERT_KEY=NRII-KnWo5cYwymYiNnOW1B2cx2SPfcMetJqm]], miss = [[NEW_RELIC_INSERT_KEY=NRII-OvlNJ0_6gM9M]] },
    },
    {
      id = "datadog-api-key",
      description = "Datadog API key",
      regex = [[(?i)(?:datadog|dd)_?api_?key["']?\s*[:=]\s*["']?([a-f0-9]{32})\b]],
      keywords = { "datadog", "dd_api", "ddapi" },
      severity = "high", tags = { "monitoring" },
      entropy = 3.2,
      examples = { hit = [[DD_API_KEY=6171d34b5c0c2e3213b6e3549fd2bd4b]], miss = [[DD_API_KEY=25e4f3a16d3466c5]] },
    },
    {
      id = "grafana-cloud-token",
      description = "Grafana Cloud API token",
      regex = [[\b(glc_[A-Za-z0-9+/]{32,400}={0,2})]],
      keywords = { "glc_" },
      severity = "high", tags = { "monitoring" },
      entropy = 3.5,
      examples = { hit = [[GRAFANA_TOKEN=glc_9YFQXg93an6LZ5/g2kYPzOsjHOSyPfr+qYghJ0xMpbQjV1RQmx7GwsSdV7pm2O171tugFtIOlVH6QH1qxB2svwLbg+Yk8QcuTrnsWS+kzZT+WJQNmGnb0WZ4]], miss = [[GRAFANA_TOKEN=glc_4mlcRMysiZkC]] },
    },
    {
      id = "grafana-service-account-token",
      description = "Grafana service account token",
      regex = [[\b(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})\b]],
      keywords = { "glsa_" },
      severity = "high", tags = { "monitoring" },
      entropy = 3.5,
      examples = { hit = [[GRAFANA_SA_TOKEN=glsa_0aoBnMdjaKsn45WXqDzlALTlsPwCGTpW_d8515b17]], miss = [[GRAFANA_SA_TOKEN=glsa_2yEJcxhlT3jer6ogZJ9ImAZOm4VuZdum]] },
    },
    {
      id = "dynatrace-token",
      description = "Dynatrace API token",
      regex = [[\b(dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64})\b]],
      keywords = { "dt0c01." },
      severity = "high", tags = { "monitoring" },
      examples = { hit = [[DT_API_TOKEN=dt0c01.EWY3UPTKZV363HV4ET5L0R7Z.410EVLQ2522BOBZ3T869ATZ82DCJJGR7Y3S2K2FA1GOASAX5WGGFQ8WE2YG4RENW]], miss = [[DT_API_TOKEN=dt0c01.OS1ZGCIHN0UQC7WW90ZXWP2V]] },
    },
    {
      id = "pagerduty-token",
      description = "PagerDuty API token",
      regex = [[(?i)pagerduty[\w.-]{0,20}["']?\s*[:=]\s*["']?([A-Za-z0-9_+-]{20})\b]],
      keywords = { "pagerduty" },
      severity = "high", tags = { "monitoring" },
      entropy = 3.5,
      examples = { hit = [[PAGERDUTY_TOKEN=kDGxH3UxRRQlBICr6XxG]], miss = [[PAGERDUTY_TOKEN=changeme]] },
    },
    {
      id = "okta-api-token",
      description = "Okta API token",
      regex = [[(?:(?<![A-Za-z0-9])|(?<=[a-z0-9])(?=O))(?i:okta)[\w.-]{0,20}["']?\s*[:=]\s*["']?(00[A-Za-z0-9_-]{40})(?![A-Za-z0-9_-])]],
      keywords = { "okta" },
      severity = "critical", tags = { "identity" },
      entropy = 3.5,
      examples = { hit = [[OKTA_API_TOKEN=00vWRzlCCYrrlfM3DPVpgXQb03MfVAS72rc8ZG3TLZ]], miss = [[OKTA_API_TOKEN=000aoqb4974Ldna9g_P8hC]] },
    },
    {
      id = "onepassword-service-account-token",
      description = "1Password service account token",
      regex = [[\b(ops_eyJ[A-Za-z0-9+/]{250,}={0,3})]],
      keywords = { "ops_eyJ" },
      severity = "critical", tags = { "secrets-manager" },
      entropy = 4.0,
      examples = { hit = [[OP_SERVICE_ACCOUNT_TOKEN=ops_eyJME3lLn3LDBdJJ8vdg72nkjTP/8xk7dbwZ07q72QtcxvfLoeQxWvmD04o7ntUQCsHp4Ey4ozirCgpkrI2hXFLh6o6SWfrM3t/w+XKG3BAK1DNJ0T8FPVLu4d4FHZEiY0SOx7o3IDt14qM5nNeQrT1QWXysOU5Pb679zciqf52Oy01R3UB7dUT/D16nFDGKJecFFNNxw0iwDSZlLVxs2DMEErbu9BDAWnBP3nDS+yFx+4sKEdc3B0ZHZ99BscnPUL2VZCr]], miss = [[OP_SERVICE_ACCOUNT_TOKEN=ops_eyJj0J1DygCqZVDdC51grvxv36hAr]] },
    },
    {
      id = "mapbox-secret-token",
      description = "Mapbox secret access token",
      regex = [[\b(sk\.eyJ1Ijoi[A-Za-z0-9_-]{50,}\.[A-Za-z0-9_-]{20,})]],
      keywords = { "sk.eyJ1Ijoi" },
      severity = "high", tags = { "saas" },
      examples = { hit = [[MAPBOX_TOKEN=sk.eyJ1IjoiO6VdfVI0up13tdtSDFu7qdx313QmvHBKJhr2wNIFcnB1HGwh8Q1q_LnkYI7F.1jTC7fNmfpW1s-LP0opYHN]], miss = [[MAPBOX_TOKEN=pk.eyJ1Ijoi3u9o1SVc21Dd3yxPrOC0h1tFWwzfSSYYTKUK_G8Mdy4bUplRgaofRJlC28iN.7lah5VSFoJrBY6R3R5IvVJ]] },
    },
    {
      id = "algolia-admin-key",
      description = "Algolia admin API key",
      regex = [[(?i)algolia[\w.-]{0,20}(?:admin|api)?[\w.-]{0,10}key["']?\s*[:=]\s*["']?([a-f0-9]{32})\b]],
      keywords = { "algolia" },
      severity = "high", tags = { "saas" },
      entropy = 3.2,
      examples = { hit = [[ALGOLIA_ADMIN_KEY=8852d9a03e908eb9993a5386ca6b0005]], miss = [[ALGOLIA_APP_ID=90BM4UA84N]] },
    },
    {
      id = "snyk-token",
      description = "Snyk API token",
      regex = [[(?i)snyk[\w.-]{0,20}["']?\s*[:=]\s*["']?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b]],
      keywords = { "snyk" },
      severity = "high", tags = { "saas" },
      examples = { hit = [[SNYK_TOKEN=fe51fb27-d257-ae6a-a0c3-68ac4daabd6c]], miss = [[SNYK_ORG=corp]] },
    },
    {
      id = "shippo-api-token",
      description = "Shippo live API token",
      regex = [[\b(shippo_live_[a-f0-9]{40})\b]],
      keywords = { "shippo_live_" },
      severity = "high", tags = { "commerce" },
      examples = { hit = [[SHIPPO_TOKEN=shippo_live_2dbb73215a9892bdfc0fb356422911d237e90d93]], miss = [[SHIPPO_TOKEN=shippo_test_84cb7b1e38c1d9da7fa276a0845378bdc2516109]] },
    },
    {
      id = "easypost-api-key",
      description = "EasyPost API key",
      regex = [[\b(EZAK[A-Za-z0-9]{54})\b]],
      keywords = { "EZAK" },
      severity = "high", tags = { "commerce" },
      entropy = 3.5,
      examples = { hit = [[EASYPOST_API_KEY=EZAKsbALNvVXRFBnvfOqDO7JHeLEQxEF2QYMp4twFP00oJ8tslPA7BlBiq]], miss = [[EASYPOST_API_KEY=EZAKYEJKfgQYTXmWpd]] },
    },
    {
      id = "prefect-api-key",
      description = "Prefect API key",
      regex = [[\b(pnu_[A-Za-z0-9]{36})\b]],
      keywords = { "pnu_" },
      severity = "high", tags = { "saas" },
      entropy = 3.5,
      examples = { hit = [[PREFECT_API_KEY=pnu_ckEcRGAbLeM8cidZGK7wTKCSqviHPSWMzvfv]], miss = [[PREFECT_API_KEY=pnu_roTAXazp4qykbfny]] },
    },
    {
      id = "readme-api-key",
      description = "ReadMe API key",
      regex = [[\b(rdme_[a-z0-9]{70})\b]],
      keywords = { "rdme_" },
      severity = "high", tags = { "saas" },
      entropy = 3.5,
      examples = { hit = [[README_API_KEY=rdme_8ofzsz4vbck7yqlco86dltp0nwekvtq4jahohty6muyw1695661hrs6xknqmegs6u6k257]], miss = [[README_API_KEY=rdme_6ixpwiwtpkp1el7mn5he]] },
    },
    {
      id = "dropbox-access-token",
      description = "Dropbox short-lived access token",
      regex = [[\b(sl\.[A-Za-z0-9_-]{130,152})(?![A-Za-z0-9_-])]],
      keywords = { "sl." },
      severity = "high", tags = { "saas" },
      entropy = 3.5,
      examples = { hit = [[DROPBOX_TOKEN=sl.D9bFZ5JxSCke1M3q8ODfz5mlQREW3ITM2xoMK674KrNlKZYDaJXJfQ2dYtg-cJmOWuFq7TAolRp1tny7B8E1YXB7AKwNDnX5GZXZ3R6YCCt78Cn8owSHlZQWk5BRr04U2QU7_3Z5ob]], miss = [[DROPBOX_TOKEN=sl.8YLvk-91BCbWUZ7RFFiRfJZ36bqKPWHSoPlnwY]] },
    },
    {
      id = "twitch-api-token",
      description = "Twitch API token",
      regex = [[(?i)twitch[\w.-]{0,20}(?:token|secret|key)[\w.-]{0,10}["']?\s*[:=]\s*["']?([a-z0-9]{30})\b]],
      keywords = { "twitch" },
      severity = "high", tags = { "social" },
      entropy = 3.5,
      examples = { hit = [[TWITCH_CLIENT_SECRET=td6fgt6n2oihyf37uoxtwrmtsy9ck7]], miss = [[TWITCH_CLIENT_ID=2vjbayj8de]] },
    },
    {
      id = "contentful-token",
      description = "Contentful delivery or management token",
      regex = [[\b(CFPAT-[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])]],
      keywords = { "CFPAT-" },
      severity = "high", tags = { "saas" },
      entropy = 3.5,
      examples = { hit = [[CONTENTFUL_TOKEN=CFPAT-SRRaslp-4j43CgFZcNDJrLL55XMdiV1rfxKhvkFkKIL]], miss = [[CONTENTFUL_TOKEN=CFPAT-KPQA2naAXHy4a]] },
    },
    {
      id = "launchdarkly-token",
      description = "LaunchDarkly access token",
      regex = [[\b(api-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12})\b]],
      keywords = { "api-" },
      severity = "high", tags = { "saas" },
      examples = { hit = [[LD_ACCESS_TOKEN=api-8733edb9-d1ca-4e82-f97e-03272c116add]], miss = [[LD_ACCESS_TOKEN=api-52a45d71-1233]] },
    },
    {
      id = "gocardless-token",
      description = "GoCardless live access token",
      regex = [[\b(live_[A-Za-z0-9_=-]{40})(?![A-Za-z0-9_=-])]],
      keywords = { "live_" },
      severity = "high", tags = { "payment" },
      entropy = 3.5,
      examples = { hit = [[GOCARDLESS_TOKEN=live_ISupJ7iWnCZYDIu2Vgt7CDGRjlrUdsuRNLq3FFD1]], miss = [[GOCARDLESS_TOKEN=sandbox_Es2FB2wVVBGDmGL9xbpfrAr-xbVVjkJqxL__N8rz]] },
    },
    {
      id = "braintree-access-token",
      description = "Braintree/PayPal production access token",
      regex = [[\b(access_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32})\b]],
      keywords = { "access_token$production$" },
      severity = "critical", tags = { "payment" },
      examples = { hit = [[BRAINTREE_TOKEN=access_token$production$3hv33qx8p5ae05pz$c7407d5d80a4b5e8f2a6de535be93ab6]], miss = [[BRAINTREE_TOKEN=access_token$sandbox$fa6yyi5ffjat70lw$836465e72a3b224fa5fa211e8c463f46]] },
    },
    {
      id = "adyen-api-key",
      description = "Adyen API key",
      regex = [[\b(AQE[A-Za-z0-9]{2}[A-Za-z0-9+/=]{80,}\.\.\.?)]],
      keywords = { "AQE" },
      severity = "high", tags = { "payment" },
      examples = { hit = [[ADYEN_KEY=AQEqQQvao/JZqvhdcNeofdlXfA4DVHqkzA45Gp0Ty13r0c1oW5eCJ1bCtbxA4yK9YRFuXsMxPnhyQHTfUMhEx9ZzRRqJD3iDGQdEJh4Wz..]], miss = [[ADYEN_KEY=AQEb4aSxj1hEKgw]] },
    },
    {
      id = "square-application-secret",
      description = "Square application secret (sandbox prefix)",
      regex = [[\b(EAAAE[A-Za-z0-9_-]{59})(?![A-Za-z0-9_-])]],
      keywords = { "EAAAE" },
      severity = "high", tags = { "payment" },
      entropy = 3.5,
      examples = { hit = [[SQUARE_APP_SECRET=EAAAErIuGJTu-UrxGlDGfOJeRN7d0Y3A_megxQfdB0-byiqr5huyU9tQjRwGcrK2]], miss = [[SQUARE_APP_SECRET=EAAAXnrwBlD-aTHQB44MaCZgnsppjKuPEkoYL3NIJybz7iJCAa-dTjhdeAVSkBlQ]] },
    },
    {
      id = "sonarqube-token",
      description = "SonarQube token",
      regex = [[\b(sq[pua]_[a-f0-9]{40})\b]],
      keywords = { "sqp_", "squ_", "sqa_" },
      severity = "high", tags = { "ci" },
      examples = { hit = [[SONAR_TOKEN=sqp_14937157a81fae83d54b1989fea7be4e573c9ce5]], miss = [[SONAR_TOKEN=sqp_73dc40fdd69f1986b793]] },
    },
    {
      id = "circleci-token",
      description = "CircleCI personal token",
      regex = [[\b(CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40})\b]],
      keywords = { "CCIPAT_" },
      severity = "high", tags = { "ci" },
      examples = { hit = [[CIRCLE_TOKEN=CCIPAT_h9XkXfTaN1lpGa1vY5LTOk_e140885c8708a73ca3304f51b9766884a8987e45]], miss = [[CIRCLE_TOKEN=CCIPAT_G6z7C6x4kJh8UbO1SPOJGg]] },
    },
    {
      id = "buildkite-token",
      description = "Buildkite agent or API token",
      regex = [[\b(bkua_[a-f0-9]{40})\b]],
      keywords = { "bkua_" },
      severity = "high", tags = { "ci" },
      examples = { hit = [[BUILDKITE_TOKEN=bkua_63ed85cce030807e90ccd240dc842c71b9fa2d7d]], miss = [[BUILDKITE_TOKEN=bkua_6457589ddce1aa31efef]] },
    },
    {
      id = "travis-token",
      description = "Travis CI token",
      regex = [[(?i)travis[\w.-]{0,20}token["']?\s*[:=]\s*["']?([A-Za-z0-9_-]{22})\b]],
      keywords = { "travis" },
      severity = "medium", tags = { "ci" },
      entropy = 3.5,
      examples = { hit = [[TRAVIS_API_TOKEN=-chUQKq5G7quhj_P1SI46j]], miss = [[TRAVIS_API_TOKEN=$TRAVIS]] },
    },
    {
      id = "jenkins-api-token",
      description = "Jenkins API token",
      regex = [[(?i)jenkins[\w.-]{0,20}(?:token|password)["']?\s*[:=]\s*["']?(11[a-f0-9]{32})\b]],
      keywords = { "jenkins" },
      severity = "high", tags = { "ci" },
      examples = { hit = [[JENKINS_API_TOKEN=11f24401c3e04a0ac134965cb776656746]], miss = [[JENKINS_API_TOKEN=1177d17e47f8dd]] },
    },
    {
      id = "vercel-token",
      description = "Vercel access token",
      regex = [[(?i)vercel[\w.-]{0,20}token["']?\s*[:=]\s*["']?([A-Za-z0-9]{24})\b]],
      keywords = { "vercel" },
      severity = "high", tags = { "cloud" },
      entropy = 3.5,
      examples = { hit = [[VERCEL_TOKEN=nkwdufEanRqdtEm4WNVtZzIB]], miss = [[VERCEL_TOKEN=LuHdwkljHnAv]] },
    },
    {
      id = "netlify-token",
      description = "Netlify personal access token",
      regex = [[\b(nfp_[A-Za-z0-9]{36})\b]],
      keywords = { "nfp_" },
      severity = "high", tags = { "cloud" },
      entropy = 3.5,
      examples = { hit = [[NETLIFY_AUTH_TOKEN=nfp_ygNkmfGESWFRVLXrCunrckSxxTsqfmlM5qEo]], miss = [[NETLIFY_AUTH_TOKEN=nfp_2c2Cplok4YpcMY77]] },
    },
    {
      id = "render-api-key",
      description = "Render API key",
      regex = [[\b(rnd_[A-Za-z0-9]{32})\b]],
      keywords = { "rnd_" },
      severity = "high", tags = { "cloud" },
      entropy = 3.5,
      examples = { hit = [[RENDER_API_KEY=rnd_DrBf9A377PTroSdybn7IIN4i9YpRzrYl]], miss = [[RENDER_API_KEY=rnd_MrpV89w1EC0l]] },
    },
    {
      id = "scaleway-secret-key",
      description = "Scaleway secret key",
      regex = [[(?i)scw[\w.-]{0,20}secret[\w.-]{0,10}["']?\s*[:=]\s*["']?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b]],
      keywords = { "scw" },
      severity = "high", tags = { "cloud" },
      examples = { hit = [[SCW_SECRET_KEY=fb75e667-bb9e-cfec-8b7c-ec86808348b7]], miss = [[SCW_DEFAULT_PROJECT_ID=2cc2de8b-97cc-7980-e489-3460cf4c4815]] },
    },
    {
      id = "ibm-cloud-api-key",
      description = "IBM Cloud API key",
      regex = [[(?i)ibm[\w.-]{0,20}(?:api)?[\w.-]{0,5}key["']?\s*[:=]\s*["']?([A-Za-z0-9_-]{44})(?![A-Za-z0-9_-])]],
      keywords = { "ibm" },
      severity = "high", tags = { "cloud" },
      entropy = 3.5,
      examples = { hit = [[IBMCLOUD_API_KEY=JWPMnQbGLCgedx2JKZ7YwGFpApRBNLdNwmTzibNiQRE5]], miss = [[IBMCLOUD_API_KEY=_VvRKgl6dm4ytw]] },
    },
    {
      id = "oci-api-key-fingerprint-pair",
      description = "Oracle Cloud API signing key next to its fingerprint",
      regex = [[(?m)^fingerprint\s*=\s*(?:[0-9a-f]{2}:){15}[0-9a-f]{2}\s*\n(?:[^\n]*\n){0,5}?key_file\s*=\s*(\S+\.pem)]],
      keywords = { "fingerprint" },
      severity = "medium", tags = { "cloud", "key" },
      window = 1024,
      examples = { hit = [[[DEFAULT]
user=ocid1.user.oc1..aaaa
fingerprint=26:27:19:65:62:4f:25:f5:d4:a2:5f:c9:09:b2:e4:5a
tenancy=ocid1.tenancy.oc1..aaaa
key_file=/home/ci/.oci/oci_api_key.pem
]], miss = [[[DEFAULT]
user=ocid1.user.oc1..aaaa
fingerprint=e6:a2:3b:61:b5:63:6a:00:d6:69:53:fa:6a:65:43:34
]] },
    },
    {
      id = "age-or-sops-key-file",
      description = "SOPS age key file entry",
      regex = [[(?m)^# public key: age1[a-z0-9]{58}\s*\n(AGE-SECRET-KEY-1[A-Z0-9]{58})]],
      keywords = { "# public key: age1" },
      severity = "critical", tags = { "key" },
      window = 512,
      examples = { hit = [[# created: 2024-01-01
# public key: age1iiom8rfa5xzpo3q5dnw89k5dacfo21h6sr53hpyt7bkn3cpu3px5u0uw5k
AGE-SECRET-KEY-1880H567VMFS6CS0QCSJ9UQ6V0ECTL6J6ZMEJAHWGL7QAAQDF2L7NZR59KX
]], miss = [[# created: 2024-01-01
# public key: age1ty6hpbx3whbg1i8iq0aq6jzuucfmo5yvjfn7uqnvivxyz3pvsn4czusc3n
]] },
    },
    {
      id = "rabbitmq-default-pass",
      description = "RabbitMQ default password setting",
      regex = [[(?m)^\s*(?:default_pass|RABBITMQ_DEFAULT_PASS)\s*[=:]\s*["\']?([^\s"\'$]{4,})]],
      keywords = { "default_pass", "RABBITMQ_DEFAULT_PASS" },
      severity = "high", tags = { "password" },
      entropy = 2.0,
      examples = { hit = [[RABBITMQ_DEFAULT_PASS=LYD4XTOzo1o72lMQ]], miss = [[RABBITMQ_DEFAULT_PASS=$RABBIT_PASS]] },
    },
    {
      id = "ldap-bind-password",
      description = "LDAP bind password",
      regex = [[(?i)\b(?:bind_?pw|bindpw|bind_?password|ldap_?password)\b["']?\s*[:=]?\s*["']?([^\s"'$]{4,})]],
      keywords = { "bind", "ldap" },
      severity = "high", tags = { "password", "ldap" },
      entropy = 2.0,
      examples = { hit = [[bindpw 0lvJY5AWVTsXeq]], miss = [[bindpw $LDAP_BIND_PW]] },
    },
    {
      id = "private-key-in-env",
      description = "Private key passed through an environment variable",
      regex = [[(?i)[A-Z_]*PRIVATE_KEY[A-Z_]*\s*=\s*["']?(-----BEGIN[^\n"']{0,40}PRIVATE KEY-----\\n[A-Za-z0-9+/=\\]{40,})]],
      keywords = { "PRIVATE_KEY" },
      severity = "critical", tags = { "key", "env" },
      examples = { hit = [[JWT_PRIVATE_KEY="-----BEGIN PRIVATE KEY-----\nja6vIuB1Hvt7j5WxbXoyrPzy9SeSooE8Sig5Q2DSwYZ0D/9GahAG7Ioj15PXotTYtpAOq3gHKZbS5tCD\n"]], miss = [[JWT_PUBLIC_KEY="-----BEGIN PUBLIC KEY-----\nNn2CC4QMyVPLmhNno/qKOp4iHHdEfd9oFlD3cWXV/J7uj0Fy4ukMOctrkeBqzKTidebrZnS85PbubXjf\n"]] },
    },
    {
      id = "gitlab-cicd-job-token",
      description = "GitLab CI/CD job token",
      regex = [[\b(glcbt-[0-9a-f]{1,5}_[A-Za-z0-9_-]{20})(?![A-Za-z0-9_-])]],
      keywords = { "glcbt-" },
      severity = "high", tags = { "gitlab", "scm" },
      entropy = 3.0,
      examples = { hit = [[CI_JOB_TOKEN=glcbt-64_1qJ8D6TbBIxlgbjoArWE]], miss = [[CI_JOB_TOKEN=glcbt-64_MCHb1Sl82c]] },
    },
    {
      id = "confluent-api-secret",
      description = "Confluent Cloud API secret",
      regex = [[(?i)confluent[\w.-]{0,20}secret["']?\s*[:=]\s*["']?([A-Za-z0-9+/]{64})(?![A-Za-z0-9+/])]],
      keywords = { "confluent" },
      severity = "high", tags = { "data" },
      entropy = 4.0,
      examples = { hit = [[CONFLUENT_API_SECRET=95dyPF9b4JoMIGoC+gQMt2Li2y52j16pVwXSqg54WJLBypVVZbUozCSeqG+b6/Hp]], miss = [[CONFLUENT_API_SECRET=i0RCDD+tL+UCUGr3vUznbKmV]] },
    },
    {
      id = "snowflake-password-url",
      description = "Snowflake connection string with password",
      regex = [[(?i)snowflake://[^\s:/@"']+:([^\s:/@"']{4,})@]],
      keywords = { "snowflake://" },
      severity = "high", tags = { "data", "password" },
      examples = { hit = [[SNOWFLAKE_URL=snowflake://etl:3TJlrCWBDaXKUpI43o@corp.eu-west-1/analytics]], miss = [[SNOWFLAKE_URL=snowflake://etl@corp.eu-west-1/analytics]] },
    },
    {
      id = "odbc-connection-password",
      description = "Password in an ODBC/ADO.NET connection string",
      regex = [[(?i)(?:Server|Data Source)=[^;\n]+;[^\n]*?\b(?:Password|Pwd)=([^;\s"']{4,})]],
      keywords = { "Server=", "Data Source=" },
      severity = "high", tags = { "database", "password" },
      examples = { hit = [[ConnectionStrings__Db="Server=sql.internal;Database=shop;User Id=app;Password=p4viZNTV7TKjxuqQ;"]], miss = [[ConnectionStrings__Db="Server=sql.internal;Database=shop;Integrated Security=true;"]] },
    },
    {
      id = "slack-legacy-bot-token",
      description = "Slack legacy bot token",
      regex = [[\b(xoxb-[0-9]{8,14}-[A-Za-z0-9]{18,26})\b]],
      keywords = { "xoxb-" },
      severity = "critical", tags = { "slack", "chat" },
      entropy = 2.0,
      examples = { hit = [[SLACK_TOKEN=xoxb-233108392848-CC3PPxl5wEXBbTFYXDYS6a3a]], miss = [[SLACK_TOKEN=xoxb-281838361336-z1FG4WzkUd]] },
    },
    {
      id = "slack-config-token",
      description = "Slack app configuration access or refresh token",
      regex = [[(?i)\b(xoxe\.xox[bp]-\d-[A-Z0-9]{163,166}|xoxe-\d-[A-Z0-9]{146})\b]],
      keywords = { "xoxe" },
      severity = "critical", tags = { "slack", "chat" },
      entropy = 2.0,
      examples = { hit = [[SLACK_CONFIG_TOKEN=xoxe.xoxp-1-xXE25D99UbnilshbdE1beeo87TGYVJ7pjblRRZ5YEcIhF0XZFKopJuvSHNrN6qcpi7EWGB9sQQTiCwS094ev9IoKbt2MJwBPod98JUpEWhHC0rj6X28fpZKejYL59ezLjtaCskntVLd3ro9XdZma9tGPpKeAD8kQsIoH]], miss = [[SLACK_CONFIG_TOKEN=xoxe.xoxp-1-Jgmrb5eZmoVUmD0hHCh6Nbp5RkmrIpZclpePlRPK]] },
    },
    {
      id = "slack-workflow-webhook",
      description = "Slack workflow webhook URL",
      regex = [[https://hooks\.slack\.com/(?:workflows|triggers)/([A-Za-z0-9+/]{43,56})]],
      keywords = { "hooks.slack.com/" },
      severity = "high", tags = { "slack", "webhook" },
      examples = { hit = [[url: https://hooks.slack.com/workflows/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]], miss = [[url: https://hooks.slack.com/workflows/]] },
    },
    {
      id = "aws-bedrock-api-key",
      description = "Amazon Bedrock API key",
      regex = [[\b(ABSK[A-Za-z0-9+/]{109,269}={0,2})(?![A-Za-z0-9+/=])]],
      keywords = { "ABSK" },
      severity = "critical", tags = { "aws", "cloud", "ai" },
      entropy = 3.0,
      examples = { hit = [[AWS_BEARER_TOKEN_BEDROCK=ABSKzBG52m+dQUyUZQF8NtdtWFy6OO5CizFTpEXCkBK7/QlvQsdbl/4RUUkSGCYvUT5LQdG5HcLyME5ppMPnXIi9S8fwvyWRbyTCmU01sjuQUyDFvTZE1fka1/7v3X3QPFOqaNAn]], miss = [[AWS_BEARER_TOKEN_BEDROCK=ABSKCJioUXtOIZaK3iF/29yK9wyhNHYCKKXPwQeQZT6H]] },
    },
    {
      id = "aws-bedrock-short-term-key",
      description = "Amazon Bedrock short-term API key",
      regex = [[\b(bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/]{40,}={0,2})]],
      keywords = { "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t" },
      severity = "critical", tags = { "aws", "cloud", "ai" },
      entropy = 3.0,
      examples = { hit = [[export AWS_BEARER_TOKEN_BEDROCK=bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29tm2hSLm6vKjMu8WXRnoKxKlbtQHevtjO/URo9slkhA3dltWW3PGWAaXZw2M31atfDwhSIoNk+5zx0sT2ubI9ciUYu45dGEDTnR2hvAToItOEJjOZeT/yd4/LmXsWRVf1svusYxVQoorhQk64pYoewmGo4D7wcbKNlB+ngvS4CaG/1IGYfzHwI]], miss = [[export AWS_BEARER_TOKEN_BEDROCK=bedrock-api-key-]] },
    },
    {
      id = "huggingface-org-token",
      description = "Hugging Face organisation API token",
      regex = [[\b(api_org_[A-Za-z]{34})\b]],
      keywords = { "api_org_" },
      severity = "high", tags = { "ai" },
      entropy = 3.0,
      examples = { hit = [[HF_ORG_TOKEN=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]], miss = [[const api_org_controller = require('./api')]] },
    },
    {
      id = "perplexity-api-key",
      description = "Perplexity API key",
      regex = [[\b(pplx-[A-Za-z0-9]{48})\b]],
      keywords = { "pplx-" },
      severity = "high", tags = { "ai" },
      entropy = 3.0,
      examples = { hit = [[PERPLEXITY_API_KEY=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]], miss = [[model: pplx-70b-online]] },
    },
    {
      id = "clickhouse-cloud-api-secret",
      description = "ClickHouse Cloud API secret key",
      regex = [[\b(4b1d[A-Za-z0-9]{38})\b]],
      keywords = { "4b1d" },
      severity = "high", tags = { "database" },
      entropy = 3.0,
      examples = { hit = [[CLICKHOUSE_KEY_SECRET=4b1dyfer6qzdKqbfnbJPLI6XH4qJKRpbX63NdWBWHm]], miss = [[key = adf4b1dKhYjho9nRdTwbbNHTfoNObGkv0xTqyK2wup7ZM]] },
    },
    {
      id = "maxmind-license-key",
      description = "MaxMind license key",
      regex = [[\b([A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk)\b]],
      keywords = { "_mmk" },
      severity = "medium", tags = { "geoip" },
      entropy = 3.5,
      examples = { hit = [[MAXMIND_LICENSE_KEY=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]], miss = [[MAXMIND_LICENSE_KEY=MDhxdmq7J2lu_mmk]] },
    },
    {
      id = "notion-api-token",
      description = "Notion integration token",
      regex = [[\b(ntn_[0-9]{11}[A-Za-z0-9]{35})\b]],
      keywords = { "ntn_" },
      severity = "high", tags = { "productivity" },
      entropy = 3.0,
      examples = { hit = [[NOTION_TOKEN=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]], miss = [[NOTION_TOKEN=ntn_3AWzLg07vmsTHqTYliAO]] },
    },
    {
      id = "sourcegraph-access-token",
      description = "Sourcegraph access token",
      regex = [[\b(sgp_(?:[a-fA-F0-9]{16}|local)_[a-fA-F0-9]{40}|sgp_[a-fA-F0-9]{40})\b]],
      keywords = { "sgp_" },
      severity = "high", tags = { "scm" },
      entropy = 3.0,
      examples = { hit = [[SRC_ACCESS_TOKEN=sgp_4c683ffee0a999cc_92540defbcdbaf2b700cf2494123ef16f47e550e]], miss = [[SRC_ACCESS_TOKEN=sgp_local_9c0683953b500f838010]] },
    },
    {
      id = "onepassword-secret-key",
      description = "1Password account secret key",
      regex = [[\b(A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5})\b]],
      keywords = { "A3-" },
      -- Case matters: caseless "a3-" is frequent in C headers.
      prefilter_regex = [[A3-[A-Z0-9]{6}-]],
      severity = "critical", tags = { "password-manager" },
      entropy = 3.8,
      examples = { hit = [[OP_SECRET_KEY=A3-9K310W-PFRZ8TB9RUB-IQPFY-FZ431-Y8MTX]], miss = [[OP_SECRET_KEY=A3-XXXXXX-XXXXXXXXXXX-XXXXX-XXXXX-XXXXX]] },
    },
    {
      id = "cloudflare-global-api-key",
      description = "Cloudflare global API key",
      regex = [[(?i)cloudflare[\w.-]{0,20}["']?\s*[:=]\s*["']?([a-f0-9]{37})(?![A-Za-z0-9])]],
      keywords = { "cloudflare" },
      severity = "critical", tags = { "cloud" },
      entropy = 2.0,
      examples = { hit = [[CLOUDFLARE_GLOBAL_API_KEY=f0ba44e504f5fdbd6201ca27e0057aa7b003b]], miss = [[CLOUDFLARE_ACCOUNT_ID=e9e41264405d704f59a70be5e0af590d]] },
    },
    {
      id = "facebook-page-access-token",
      description = "Facebook page or user access token",
      regex = [[\b(EAA[MC][A-Za-z0-9]{100,})]],
      keywords = { "EAAM", "EAAC" },
      -- Case matters: caseless "eaac" is common in tables of hex numbers.
      prefilter_regex = [[EAA[MC][A-Za-z0-9]{100}]],
      severity = "high", tags = { "social" },
      entropy = 3.5,
      examples = { hit = [[FB_PAGE_TOKEN=EAAM3afiGhRRGwMkRbhVXF8sJXQzUeDbwPUvyTnOlayCRznded8ZLprQexOSCB49ErhZ54u4wzfeHk0qVKBPYD3FJSNHzPpBaFU7oU3FLtzB9rnfarG3RzszGbteXyMYoUIDXHqDIODgSrJfNyrVgTCkCK3ARJvBnYqs]], miss = [[FB_PAGE_TOKEN=EAAMob6TLpOkxoIVFi5VssvEyayHxx7ci5]] },
    },
    {
      id = "facebook-app-access-token",
      description = "Facebook app access token (app id|secret)",
      regex = [[(?<![0-9A-Za-z])(\d{15,16}(?:\||%7C)[0-9a-zA-Z_-]{27,40})(?![0-9a-zA-Z_-])]],
      -- Where the line names the token or Facebook: like discord-bot-token,
      -- the format has no literal part to find it by.
      keywords = { "access_token", "facebook" }, -- not "fb_": linux/fb.h
      severity = "high", tags = { "social" },
      entropy = 3.0,
      examples = { hit = [[access_token=148550027918523|Ye8FLY0wMLJN44nDGAhvjVxdxRkB0oHd]], miss = [[access_token=282456975948407|z0hcp-bnHLIA]] },
    },
    {
      id = "vault-legacy-token",
      description = "HashiCorp Vault token (old s. format)",
      regex = [[(?i)(?:vault|token)[\w.-]{0,20}["']?\s*[:=]\s*["']?(s\.[A-Za-z0-9]{24})(?![A-Za-z0-9])]],
      keywords = { "vault", "token" },
      severity = "critical", tags = { "vault" },
      entropy = 3.5,
      -- The expression without its look-ahead, the token's "s." kept
      -- case-sensitive: "s." alone (member access in every C and Python
      -- file) made vectorscan check more places than the names do.
      prefilter_regex = [=[(?i:vault|token)[\w.-]{0,20}["']?\s*[:=]\s*["']?s\.[A-Za-z0-9]{24}]=],
      -- Allow-lists are caseless; these three say what they mean with (?-i).
      allow = { [[(?-i)^s\.[A-Za-z]+$]], [[(?-i)^s\.[a-z0-9]+$]], [[(?-i)^s\.[A-Z0-9]+$]] },
      examples = { hit = [[VAULT_TOKEN=s.67RL2SPZZviH5gbNKSA2N3v7]], miss = [[VAULT_TOKEN=s.AcceptanceTimeoutSeconds]] },
    },
    {
      id = "openshift-user-token",
      description = "OpenShift user token",
      regex = [[\b(sha256~[\w-]{43})(?![\w-])]],
      keywords = { "sha256~" },
      severity = "critical", tags = { "k8s" },
      entropy = 3.5,
      examples = { hit = [[oc login --token=sha256~XrdkBZBbKTEDe59YwpTYNso6l70mjVOeIShe9P9qTvS --server=https://api.ocp:6443]], miss = [[oc login --token=sha256~XXXXXXXXXX_PUT_YOUR_TOKEN_HERE_XXXXXXXXXXXX]] },
    },
    {
      id = "flyio-macaroon-token",
      description = "Fly.io macaroon token",
      regex = [[\b((?:fm1[ar]|fm2)_[A-Za-z0-9+/]{100,}={0,3})]],
      keywords = { "fm1a_", "fm1r_", "fm2_" },
      severity = "high", tags = { "cloud" },
      entropy = 4.0,
      examples = { hit = [[FLY_API_TOKEN="FlyV1 fm2_fHzWRGrKGGQfh4HIjTpPXZ7GVf0UjU/i9bSVNQyXLxkKdx4rVfFCXidGWZ+fznbO0guS0xJo4QeMxpDIFbkzknsoUkNoxGrD3TmegFXrpVVE/Ln0M6ufdMXg5EbU59TxABd4OMiMbCZh9FlG9E15oIweX8CfzDDlMYTwJV+aQ/f76ZuPguYk"]], miss = [[FLY_API_TOKEN="FlyV1 fm2_00C+OtJzfbfX3g8FFOLH4vAZoVC40S"]] },
    },
    {
      id = "sumologic-access-id",
      description = "Sumo Logic access id",
      regex = [[(?i)sumo[\w.-]{0,20}["']?\s*[:=]\s*["']?(su[A-Za-z0-9]{12})\b]],
      keywords = { "sumo" },
      severity = "medium", tags = { "monitoring" },
      entropy = 3.0,
      allow = { [[^su[^0-9]+$]] },
      examples = { hit = [[SUMO_ACCESS_ID="suwl1rou6Dq11j"]], miss = [[SUMO_ACCESS_ID="${SUMO_ACCESS_ID}"]] },
    },
    {
      id = "sumologic-access-key",
      description = "Sumo Logic access key",
      regex = [[(?i)sumo[\w.-]{0,20}["']?\s*[:=]\s*["']?([A-Za-z0-9]{64})\b]],
      keywords = { "sumo" },
      severity = "high", tags = { "monitoring" },
      entropy = 3.0,
      examples = { hit = [[SUMO_ACCESS_KEY=ZQFOYRklwWXFiNBzAtN0bA8MikVWMZDj2RvILn7Vr5BJdqOXo0SROnIiU95iX3wb]], miss = [[SUMO_ACCESS_KEY=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]] },
    },
    {
      id = "infracost-api-token",
      description = "Infracost API token",
      regex = [[\b(ico-[A-Za-z0-9]{32})\b]],
      keywords = { "ico-" },
      severity = "high", tags = { "cloud" },
      entropy = 3.0,
      allow = { [[^ico-[a-f0-9]{32}$]] },
      examples = { hit = [[INFRACOST_API_KEY=ico-KkFcvHt97NhTOkN2fw0TyS01XRp6fj3Y]], miss = [[favicon.ico-39585110476b5e45c0e3c9214241dd2f.png]] },
    },
    {
      id = "scalingo-api-token",
      description = "Scalingo API token",
      regex = [[\b(tk-us-[\w-]{48})(?![\w-])]],
      keywords = { "tk-us-" },
      severity = "high", tags = { "cloud" },
      entropy = 2.0,
      examples = { hit = [[SCALINGO_API_TOKEN=tk-us-Pi8UWXmA0OpZ1ck-nnXNcVhvTQAwhgy-vpzQYiC0V047aJ1O]], miss = [[SCALINGO_API_TOKEN=tk-us-WVwkzuWVAE3xOT5-fk_V]] },
    },
    {
      id = "sidekiq-secret",
      description = "Sidekiq Pro/Enterprise gem credentials",
      regex = [[(?i)\b(?:BUNDLE_ENTERPRISE__CONTRIBSYS__COM|BUNDLE_GEMS__CONTRIBSYS__COM)["']?\s*[:=]\s*["']?([a-f0-9]{8}:[a-f0-9]{8})\b]],
      keywords = { "CONTRIBSYS__COM" },
      severity = "high", tags = { "registry" },
      examples = { hit = [[export BUNDLE_GEMS__CONTRIBSYS__COM=c5d01aff:06a11a82]], miss = [[export BUNDLE_GEMS__CONTRIBSYS__COM=${SIDEKIQ_CREDS}]] },
    },
    {
      id = "sidekiq-sensitive-url",
      description = "Sidekiq Pro/Enterprise gem server URL with credentials",
      regex = [[(?i)\bhttps?://([a-f0-9]{8}:[a-f0-9]{8})@(?:gems|enterprise)\.contribsys\.com]],
      keywords = { "contribsys.com" },
      severity = "high", tags = { "registry" },
      examples = { hit = [[source "https://b1c4cb55:b08a50bd@gems.contribsys.com/"]], miss = [[source "https://gems.contribsys.com/"]] },
    },
    {
      id = "nuget-config-password",
      description = "Password in a NuGet config file",
      regex = [=[(?i)<add\s+key=["'](?:ClearText)?Password["']\s+value=["']([^"']{8,})["']]=],
      keywords = { "<add key=" },
      severity = "high", tags = { "registry", "password" },
      entropy = 1.0,
      allow = { [[^%\S.*%$]] },
      -- The spellings NuGet itself looks for (plain globs: a character class
      -- would cost an fnmatch() call for every file scanned).
      paths = { "*nuget.config", "*NuGet.config", "*NuGet.Config", "*Nuget.config", "*Nuget.Config" },
      examples = { hit = [[<add key="ClearTextPassword" value="8u1jibnyS7o1Cq1y" />]], miss = [[<add key="ClearTextPassword" value="%NUGET_PASSWORD%" />]], path = "src/nuget.config" },
    },
    {
      id = "terraform-password",
      description = "Password in Terraform or HCL",
      regex = [[(?i)(?<![a-z0-9])(?:[a-z0-9]+_)*(?:password|passwd)\s*=\s*"([^"\s$]{8,64})"]],
      -- No keywords: checked whole, on .tf/.tfvars/.hcl files only (a keyword
      -- "password" would send every file of a tree to the check).
      severity = "high", tags = { "password", "terraform" },
      entropy = 2.0,
      paths = { "*.tf", "*.tfvars", "*.hcl" },

      examples = { hit = [[administrator_login_password = "mkQdBiDMDxUpC1"]], miss = [[administrator_login_password = var.db_password]], path = "infra/main.tf" },
    },
    {
      id = "openai-api-key-named",
      description = "OpenAI API key in an OPENAI_* setting",
      regex = [[(?i)openai[\w.-]{0,20}["']?\s*[:=]\s*["']?(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,})(?![A-Za-z0-9_-])]],
      keywords = { "openai" },
      severity = "critical", tags = { "ai" },
      entropy = 3.5,
      examples = { hit = [[OPENAI_API_KEY=sk-proj-iUKeV4wdvI2KpnPZNgvT1orm7aXebx8M0dUPBXbiX6g9bkvq4CT88hUtn8o3lUWmLrJxMo2LKaIH7Ww9JPPCWwVt3apfB-mexoTGtIRKnM5sjPtBlSNXIoJH]], miss = [[OPENAI_API_KEY=sk-proj-...]] },
    },
    {
      id = "curl-auth-user",
      description = "Credentials on a curl command line (-u user:password)",
      regex = [[\bcurl\b(?:[^\n]*\\\r?\n){0,5}[^\n]*?\s(?:-u|--user)(?:=|[ \t]+)["']?((?:[^\s"':]*:[^\s"']{3,})|(?:[^\s"':]{3,}:))(?=["'\s]|$)]],
      keywords = { "curl" },
      -- vectorscan looks for the option, rarer than the word "curl" (every
      -- libcurl header is full of CURL...).
      prefilter_regex = [=[(?:-u|--user)(?:=|[ \t]+)["']?[^\s"':]*:]=],
      severity = "high", tags = { "password", "http" },
      entropy = 2.0,
      window = 1024,
      allow = { [[:(?:change(?:it|me)|pass(?:word)?|pwd|test|token|\*+|x+|yyy)$]], [[(?:^|:)\$]], [=[[<\[{]]=], [[^(?:test|xxx|user(?:name)?):]] },
      examples = { hit = [[curl -s --user 'api:rdNTRiwxW1zVz1Bp' https://api.mailgun.net/v3/domains]], miss = [[curl -sL --user "$GITHUB_USERNAME:$GITHUB_PASSWORD" "$GITHUB_URL"]] },
    },
    {
      id = "curl-auth-header",
      description = "Token in a curl header (Authorization, Token, X-Api-Key)",
      regex = [[(?i)\bcurl\b(?:[^\n]*\\\r?\n){0,5}[^\n]*?\s(?:-H|--header)(?:=|[ \t]*)["'](?:authorization:[ \t]*(?:(?:api-)?token[ \t]+)?(?!bearer\b|basic\b)|(?:x-(?:[a-z]+-)?)?(?:api-?)?(?:key|token):[ \t]*)([\w=~@.+/-]{8,})]],
      keywords = { "curl" },
      prefilter_regex = [=[(?i)(?:-H|--header)(?:=|[ \t]*)["'](?:authorization:|(?:x-(?:[a-z]+-)?)?(?:api-?)?(?:key|token):)]=],
      severity = "high", tags = { "http", "token", "generic" },
      entropy = 2.75,
      window = 1024,
      examples = { hit = [[curl -H "Authorization: Token 17129df8a726c433ea61cdd45ba8922ead17e0b9" https://api.corp/v1/use]], miss = [[curl -H "Authorization: Token $API_TOKEN" https://api.corp/v1/use]] },
    },
    {
      id = "k8s-secret-value",
      description = "Value of a Kubernetes Secret (decoded data)",
      -- Only on the decoded data values of Secret manifests (k8s.c), whatever
      -- the key (token, api-key, *.pem...); keys that name public or
      -- non-secret data are left out.
      regex = [[(?m)^(?!(?i:user(?:name)?|login|host(?:name)?|port|database|db|namespace|email|url|endpoint|region|ca\.crt|tls\.crt|[\w.-]*\.(?:crt|pub))\b:)[\w.-]+: ([^\n]{8,})$]],
      kind = "k8s-secret",
      severity = "high", tags = { "k8s", "generic" },
      entropy = 3.0,
      examples = { hit = [[apiVersion: v1
kind: Secret
metadata:
  name: api
type: Opaque
data:
  webhook-signing.key: enltTWxvcGlXZnFVeUhSU0lmOE5GbUFVTkxuWTVZeDA=
]], miss = [[apiVersion: v1
kind: Secret
metadata:
  name: api
type: Opaque
data:
  username: YWRtaW4=
  host: ZGIuaW50ZXJuYWwuc3ZjLmNsdXN0ZXIubG9jYWw=
]], path = "deploy/secret.yaml" },
    },
  },
}
