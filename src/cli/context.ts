/** Options every command shares (the global flags of `docker compose`). */
export interface GlobalOptions {
  file?: string[];
  projectName?: string;
  projectDirectory?: string;
  envFile?: string[];
  profile?: string[];
  debug?: boolean;
}
