using Ariadne.Configuration;

namespace Ariadne.Tests.Storage.Embedded;

public sealed class EmbeddedOptionsTests
{
    [Fact]
    public void Head_cuts_and_compaction_have_their_own_zstd_levels_and_a_level_out_of_range_names_its_key()
    {
        var options = ConfigurationLoader.Load(null, new Dictionary<string, string?>());
        Assert.Equal(3, options.Embedded.CompressionLevel);
        Assert.Equal(9, options.Embedded.CompactionCompressionLevel);

        var error = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(null, new Dictionary<string, string?>
        {
            ["Embedded:CompressionLevel"] = "0",
            ["Embedded:CompactionCompressionLevel"] = "23",
        }));
        Assert.Contains("Embedded:CompressionLevel: 0 must be a zstd level from 1 to 22", error.Message, StringComparison.Ordinal);
        Assert.Contains("Embedded:CompactionCompressionLevel: 23 must be a zstd level from 1 to 22", error.Message, StringComparison.Ordinal);
    }
}
