import { readFileSync } from 'node:fs';
import { errors } from '../errors.ts';
import { hashPassword, minPasswordLength, newApiToken } from '../http/auth/credentials.ts';
import { parseCommandArgs } from './main.ts';

const help = `storeedge user hash [--password-file FILE]   read a password (stdin, or the file's first line) and print its hash for http.users
storeedge user token                         print a new API token and its sha256 for http.apiTokens`;

/** Dashboard users and API tokens (docs/dashboard.md "Access"): the agent's config holds only hashes. */
export async function runUserCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'hash') return hashCommand(rest);
  if (sub === 'token') return tokenCommand(rest);
  throw errors.EDGE_ERR_CLI_USAGE(`${sub === undefined ? 'a subcommand is needed' : `unknown subcommand "${sub}"`}\nusage: ${help}`);
}

async function hashCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { 'password-file': { type: 'string' } }, help);
  if (positionals.length > 0) throw errors.EDGE_ERR_CLI_USAGE(`the password is read from stdin or --password-file, never from the command line (shell history)\nusage: ${help}`);
  const file = values['password-file'];
  if (file === undefined && process.stdin.isTTY) process.stderr.write('password (the line is shown as you type; end with Enter, then Ctrl+D): ');
  const text = file === undefined ? await readStdin() : readPasswordFile(file);
  const password = text.split(/\r?\n/, 1)[0] ?? '';
  if (password.length < minPasswordLength) {
    throw errors.EDGE_ERR_CLI_USAGE(`the password must be at least ${minPasswordLength} characters (got ${password.length})\nusage: ${help}`);
  }
  if (password.length > 1_024) throw errors.EDGE_ERR_CLI_USAGE(`the password must be at most 1024 characters\nusage: ${help}`);
  process.stdout.write(`${await hashPassword(password)}\n`);
  process.stderr.write('put it in the config: "http": { "users": [{ "name": "…", "role": "manager" or "staff", "passwordHash": "<the line above>" }] }, then restart the agent.\n');
  return 0;
}

async function tokenCommand(args: string[]): Promise<number> {
  parseCommandArgs(args, {}, help);
  const { token, tokenSha256 } = newApiToken();
  process.stdout.write(`${JSON.stringify({ token, tokenSha256 })}\n`);
  process.stderr.write('give the token to the client (Authorization: Bearer <token>); put only { "name", "role", "tokenSha256" } in the config\'s http.apiTokens.\n');
  return 0;
}

function readPasswordFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw errors.EDGE_ERR_CONFIG_UNREADABLE(`cannot read the password file ${file}: ${(cause as Error).message}`, { cause });
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
