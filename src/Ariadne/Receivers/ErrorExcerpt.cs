namespace Ariadne.Receivers;

/// <summary>A client's value quoted in an error message: the first 40 characters, so a huge bad field stays readable.</summary>
internal static class ErrorExcerpt
{
    public static string Of(ReadOnlySpan<char> value) => value.Length <= 40 ? value.ToString() : $"{value[..40]}…";
}
