/** The mock's TLS failure modes per provider name (mock-upstream/README.md, admin API). */
export type TlsMode = 'valid' | 'untrusted-ca' | 'wrong-name' | 'reset' | 'stall';

export interface TlsNameState {
  mode: TlsMode;
  connections: Record<TlsMode, number>;
}

export async function setTlsMode(mockAdminURL: string, servername: string, mode: TlsMode): Promise<void> {
  const response = await fetch(`${mockAdminURL}/tls/${servername}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode }) });
  if (!response.ok) throw new Error(`mock admin PUT /tls/${servername} answered ${response.status}: ${await response.text()}`);
}

export async function tlsState(mockAdminURL: string, servername: string): Promise<TlsNameState> {
  const response = await fetch(`${mockAdminURL}/tls`);
  const state = (await response.json()) as { servernames: Record<string, TlsNameState> };
  const found = state.servernames[servername];
  if (!found) throw new Error(`the mock reports no TLS state for ${servername}`);
  return found;
}
