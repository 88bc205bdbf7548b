namespace Ariadne.Pipeline.Log;

/// <summary>
/// The ingest log could not make a record durable (disk full, I/O error). Nothing acknowledged is affected: the
/// records of the failed batch were cut off the file again, so clients that retry lose nothing.
/// </summary>
public sealed class LogUnavailableException(string message, Exception innerException) : Exception(message, innerException);
