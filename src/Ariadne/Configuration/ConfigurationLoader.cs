using Microsoft.Extensions.Configuration;

namespace Ariadne.Configuration;

/// <summary>
/// Builds <see cref="AriadneOptions"/> from, in increasing precedence: the JSON config file, <c>ARIADNE__</c>
/// environment variables, and command-line flags. Unknown keys and values of the wrong type are errors that name the key.
/// </summary>
public static class ConfigurationLoader
{
    public const string EnvironmentPrefix = "ARIADNE__";

    public static AriadneOptions Load(string? configFile, IReadOnlyDictionary<string, string?> flagOverrides)
    {
        var builder = new ConfigurationBuilder();
        if (configFile is not null)
        {
            var path = Path.GetFullPath(configFile);
            if (!File.Exists(path))
            {
                throw new ConfigurationException($"config file '{path}' does not exist; pass an existing JSON file to --config, or leave it out.");
            }

            builder.AddJsonFile(path, optional: false, reloadOnChange: false);
        }

        builder.AddEnvironmentVariables(EnvironmentPrefix);
        builder.AddInMemoryCollection(flagOverrides);

        IConfigurationRoot configuration;
        try
        {
            configuration = builder.Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException)
        {
            throw new ConfigurationException($"config file '{configFile}' is not valid JSON: {e.Message}");
        }

        var options = new AriadneOptions();
        try
        {
            configuration.Bind(options, o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException e)
        {
            throw new ConfigurationException(e.InnerException is null ? e.Message : $"{e.Message} {e.InnerException.Message}");
        }

        var errors = OptionsValidator.Validate(options);
        if (errors.Count > 0)
        {
            throw new ConfigurationException(string.Join(Environment.NewLine, errors));
        }

        return options;
    }
}

public sealed class ConfigurationException(string message) : Exception(message);
