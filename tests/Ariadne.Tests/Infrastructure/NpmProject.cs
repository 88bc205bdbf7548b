namespace Ariadne.Tests.Infrastructure;

/// <summary>
/// A Node.js project in a temp directory: packages installed from the npm registry with the machine's npm, and
/// scripts run with its node. For tests that drive Ariadne with the OpenTelemetry JS SDK, a client a user runs.
/// </summary>
public sealed class NpmProject : IDisposable
{
    private NpmProject(string directory) => Directory = directory;

    public string Directory { get; }

    /// <summary>Creates the project, writes its scripts (file name → source) and installs the packages (name@version).</summary>
    public static async Task<NpmProject> CreateAsync(IReadOnlyDictionary<string, string> scripts, params string[] packages)
    {
        var project = new NpmProject(System.IO.Directory.CreateTempSubdirectory("ariadne-npm-").FullName);
        await File.WriteAllTextAsync(Path.Combine(project.Directory, "package.json"), """{ "name": "ariadne-test", "version": "1.0.0", "private": true }""");
        foreach (var (name, source) in scripts)
        {
            await File.WriteAllTextAsync(Path.Combine(project.Directory, name), source);
        }

        var (code, output) = await project.RunAsync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", .. packages]);
        if (code != 0)
        {
            project.Dispose();
            throw new InvalidOperationException($"npm install failed ({code}); the npm registry must be reachable: {output}");
        }

        return project;
    }

    /// <summary>Runs <c>node SCRIPT ARGS</c>; returns its exit code and its output (stdout, then stderr).</summary>
    public Task<(int Code, string Output)> NodeAsync(string script, params string[] arguments) => RunAsync("node", [script, .. arguments]);

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS temp cleaner.
        }
    }

    private Task<(int Code, string Output)> RunAsync(string program, string[] arguments) => ChildProcess.RunAsync(program, arguments, Directory);
}
