namespace Ariadne.Tests.Infrastructure;

/// <summary>Waits for a condition by polling it (no fixed sleeps); fails with the description after the timeout.</summary>
public static class Poll
{
    /// <param name="interval">Between tries: more than the default 20 ms for a condition that costs a query.</param>
    public static async Task UntilAsync(Func<Task<bool>> condition, string? what = null, TimeSpan? timeout = null, TimeSpan? interval = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for {what ?? "the condition"}.");
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(20));
        }
    }

    public static Task UntilAsync(Func<bool> condition, string? what = null, TimeSpan? timeout = null, TimeSpan? interval = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, timeout, interval);
}
