using Ariadne.Configuration;

namespace Ariadne.Cli;

/// <summary>How every subcommand loads its settings: exit code 2 and the named bad keys on stderr when they are invalid.</summary>
internal static class CliConfiguration
{
    public const int InvalidConfigurationExitCode = 2;

    public static async Task<AriadneOptions?> TryLoadAsync(string? configFile, IReadOnlyDictionary<string, string?> overrides)
    {
        try
        {
            return ConfigurationLoader.Load(configFile, overrides);
        }
        catch (ConfigurationException e)
        {
            await Console.Error.WriteLineAsync($"ariadne: invalid configuration:{Environment.NewLine}{e.Message}");
            return null;
        }
    }
}
