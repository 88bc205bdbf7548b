using System.Globalization;
using Ariadne.Analysis;

namespace Ariadne.Ui.Components.Shared;

/// <summary>How the UI writes times and durations. Times are written in UTC (the server cannot know the viewer's zone); <c>LocalTime</c> marks them for ui/app.js to show in the browser's zone or in UTC, as the top bar's switch says.</summary>
public static class UiFormat
{
    public static DateTimeOffset ToTime(long unixNanos) => DateTimeOffset.UnixEpoch.AddTicks(unixNanos / 100);

    public static string Time(long unixNanos) =>
        ToTime(unixNanos).ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture) + " UTC";

    public static string ShortTime(long unixNanos) =>
        ToTime(unixNanos).ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    public static string Duration(long nanos) => DurationText.Format(nanos);

    public static string Percent(double ratio) => ratio == 0 ? "0%" : (ratio * 100).ToString(ratio < 0.01 ? "0.##" : "0.#", CultureInfo.InvariantCulture) + "%";

    public static string Number(double value) => value.ToString(value >= 100 ? "0" : "0.##", CultureInfo.InvariantCulture);

    /// <summary>Lookbacks offered everywhere, as Jaeger UI names them.</summary>
    public static readonly (string Value, string Label)[] Lookbacks =
    [
        ("5m", "Last 5 minutes"), ("15m", "Last 15 minutes"), ("30m", "Last 30 minutes"), ("1h", "Last hour"),
        ("2h", "Last 2 hours"), ("6h", "Last 6 hours"), ("12h", "Last 12 hours"), ("24h", "Last 24 hours"),
        ("2d", "Last 2 days"), ("7d", "Last 7 days"),
    ];
}
