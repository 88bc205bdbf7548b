using System.Diagnostics;

namespace Ariadne.Demo.Shop;

/// <summary>
/// Ends a shop process when the process that started it (`ariadne demo`, a test) is gone, even if that one was
/// killed without a chance to stop its children. The parent's PID comes in DEMO_PARENT_PID.
/// </summary>
internal static class ParentWatch
{
    public static void Start(string? parentPid, Action stop)
    {
        if (!int.TryParse(parentPid, System.Globalization.CultureInfo.InvariantCulture, out var pid))
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            while (await timer.WaitForNextTickAsync())
            {
                if (!IsRunning(pid))
                {
                    stop();
                    return;
                }
            }
        });
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
