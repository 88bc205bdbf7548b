namespace Ariadne.Model;

/// <summary>An operation (span name) of a service, with the span kind it was seen with.</summary>
public readonly record struct OperationInfo(string Name, SpanKind Kind);
