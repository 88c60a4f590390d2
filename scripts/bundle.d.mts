export declare const WORKSPACE_BUNDLES: Record<'lmgate' | 'mock-upstream', { entry: string; outfile: string }>;
export declare function bundle(entry: string, outfile: string, options?: { cwd?: string }): Promise<boolean>;
export declare function bundleWorkspace(workspace: keyof typeof WORKSPACE_BUNDLES, workspaceDir: string): Promise<boolean>;
