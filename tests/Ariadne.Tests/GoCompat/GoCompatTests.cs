using Ariadne.GoCompat;

namespace Ariadne.Tests.GoCompat;

/// <summary>The Go behaviours Jaeger's answers expose, checked against outputs of Go's own functions.</summary>
public sealed class GoCompatTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("1.2s", 1_200_000_000L)]
    [InlineData("300ms", 300_000_000L)]
    [InlineData("1h30m", 5_400_000_000_000L)]
    [InlineData("500us", 500_000L)]
    [InlineData("500\u00b5s", 500_000L)]
    [InlineData("500\u03bcs", 500_000L)]
    [InlineData("-1.5h", -5_400_000_000_000L)]
    [InlineData("+.5m", 30_000_000_000L)]
    [InlineData("1.0000000001s", 1_000_000_000L)]
    [InlineData("2562047h47m16.854775807s", long.MaxValue)]
    public void Go_durations_parse(string text, long nanoseconds)
    {
        Assert.True(GoDuration.TryParse(text, out var parsed, out var error), error);
        Assert.Equal(nanoseconds, parsed);
    }

    [Theory]
    [InlineData("", "time: invalid duration \"\"")]
    [InlineData("-", "time: invalid duration \"-\"")]
    [InlineData(".s", "time: invalid duration \".s\"")]
    [InlineData("1", "time: missing unit in duration \"1\"")]
    [InlineData("1d", "time: unknown unit \"d\" in duration \"1d\"")]
    [InlineData("2562047h47m16.854775808s", "time: invalid duration \"2562047h47m16.854775808s\"")]
    [InlineData("9223372036854775808ns", "time: invalid duration \"9223372036854775808ns\"")]
    public void Bad_go_durations_give_gos_errors(string text, string error)
    {
        Assert.False(GoDuration.TryParse(text, out _, out var actual));
        Assert.Equal(error, actual);
    }

    [Theory]
    [InlineData(0L, "0s")]
    [InlineData(1L, "1ns")]
    [InlineData(1_100L, "1.1\u00b5s")]
    [InlineData(2_200_000L, "2.2ms")]
    [InlineData(7_000_000L, "7ms")]
    [InlineData(3_300_000_000L, "3.3s")]
    [InlineData(4_000_000_000_000L + 5_000_000_000L, "1h6m45s")]
    [InlineData(-1_500_000L, "-1.5ms")]
    [InlineData(long.MaxValue, "2562047h47m16.854775807s")]
    [InlineData(long.MinValue, "-2562047h47m16.854775808s")]
    public void Go_durations_format(long nanoseconds, string text) => Assert.Equal(text, GoDuration.Format(nanoseconds));

    [Theory]
    [InlineData(1.0, "1")]
    [InlineData(59.99, "59.99")]
    [InlineData(0.000001, "0.000001")]
    [InlineData(0.0000001, "1e-7")]
    [InlineData(1.5e-10, "1.5e-10")]
    [InlineData(1e20, "100000000000000000000")]
    [InlineData(1e21, "1e+21")]
    [InlineData(-123456.789, "-123456.789")]
    [InlineData(1.7976931348623157e308, "1.7976931348623157e+308")]
    public void Floats_are_written_as_encoding_json_writes_them(double value, string json) => Assert.Equal(json, GoJson.FormatFloat(value));

    [Theory]
    [InlineData("abc", "strconv.ParseInt: parsing \"abc\": invalid syntax")]
    [InlineData("", "strconv.ParseInt: parsing \"\": invalid syntax")]
    [InlineData("9223372036854775808", "strconv.ParseInt: parsing \"9223372036854775808\": value out of range")]
    [InlineData("1\n", "strconv.ParseInt: parsing \"1\\n\": invalid syntax")]
    public void Int_parse_errors_are_gos(string text, string error)
    {
        Assert.False(GoStrconv.TryParseInt(text, 64, out _, out var actual));
        Assert.Equal(error, actual);
    }

    [Theory]
    [InlineData("-9223372036854775808", long.MinValue)]
    [InlineData("+42", 42L)]
    public void Ints_parse_as_in_go(string text, long value)
    {
        Assert.True(GoStrconv.TryParseInt(text, 64, out var parsed, out _));
        Assert.Equal(value, parsed);
    }

    [Theory]
    [InlineData("2026-03-02T09:15:27.123456789Z", "2026-03-02T09:15:27.1234567+00:00")]
    [InlineData("2026-03-02T09:15:27+02:00", "2026-03-02T07:15:27.0000000+00:00")]
    [InlineData("2026-03-02T9:15:27,5Z", "2026-03-02T09:15:27.5000000+00:00")]
    public void Rfc3339_times_parse_as_in_go(string text, string utc)
    {
        Assert.True(GoTime.TryParseRfc3339Nano(text, out var time, out var error), error);
        Assert.Equal(utc, time.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
    }
}
