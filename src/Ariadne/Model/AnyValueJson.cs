using System.Text.Json;

namespace Ariadne.Model;

/// <summary>Plain JSON for composite attribute values (arrays, maps), as Jaeger stringifies them.</summary>
public static class AnyValueJson
{
    public static string Serialize(AnyValue value)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, value);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    public static void Write(Utf8JsonWriter writer, AnyValue value)
    {
        switch (value.Type)
        {
            case AnyValueType.String:
                writer.WriteStringValue(value.AsString);
                break;
            case AnyValueType.Bool:
                writer.WriteBooleanValue(value.AsBool);
                break;
            case AnyValueType.Int:
                writer.WriteNumberValue(value.AsInt);
                break;
            case AnyValueType.Double when double.IsFinite(value.AsDouble):
                writer.WriteNumberValue(value.AsDouble);
                break;
            case AnyValueType.Double:
                // JSON has no NaN or infinities; proto3 JSON (OTLP/JSON) writes them as these strings.
                writer.WriteStringValue(double.IsNaN(value.AsDouble) ? "NaN" : value.AsDouble > 0 ? "Infinity" : "-Infinity");
                break;
            case AnyValueType.Bytes:
                writer.WriteBase64StringValue(value.AsBytes);
                break;
            case AnyValueType.Array:
                writer.WriteStartArray();
                foreach (var item in value.AsArray)
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            case AnyValueType.KeyValueList:
                writer.WriteStartObject();
                foreach (var kv in value.AsKeyValueList)
                {
                    writer.WritePropertyName(kv.Key);
                    Write(writer, kv.Value);
                }

                writer.WriteEndObject();
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }
}
