using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ariadne.Tests.Query;

/// <summary>
/// Compares an API answer with a golden JSON file in Query/Golden, structurally: property order is ignored, array order
/// and every value are not. Run with ARIADNE_UPDATE_GOLDEN=1 to rewrite the files after a deliberate change.
/// </summary>
public static class Golden
{
    public static void AssertMatches(string fileName, string actualJson, [CallerFilePath] string callerPath = "")
    {
        var path = Path.Combine(Path.GetDirectoryName(callerPath)!, "Golden", fileName);
        var actual = JsonNode.Parse(actualJson)!;
        if (Environment.GetEnvironmentVariable("ARIADNE_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(path, actual.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
        }

        var expected = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.True(
            JsonNode.DeepEquals(expected, actual),
            $"The answer differs from {fileName}.\nExpected:\n{expected.ToJsonString()}\nActual:\n{actual.ToJsonString()}");
    }
}
