using Ariadne.Model;

namespace Ariadne.Tests.SpanModel;

public sealed class AnyValueTests
{
    [Fact]
    public void Composite_values_with_non_finite_doubles_render_as_proto3_json_strings()
    {
        var value = AnyValue.FromArray([AnyValue.FromDouble(double.NaN), AnyValue.FromDouble(double.PositiveInfinity), AnyValue.FromDouble(1.5)]);
        Assert.Equal("[\"NaN\",\"Infinity\",1.5]", value.ToString());

        var map = AnyValue.FromKeyValueList([KeyValue.Double("x", double.NegativeInfinity)]);
        Assert.Equal("{\"x\":\"-Infinity\"}", map.ToString());
    }

    [Fact]
    public void Scalars_render_as_jaeger_renders_tags()
    {
        Assert.Equal("true", AnyValue.FromBool(true).ToString());
        Assert.Equal("-42", AnyValue.FromInt(-42).ToString());
        Assert.Equal("0.25", AnyValue.FromDouble(0.25).ToString());
        Assert.Equal("AQI=", AnyValue.FromBytes([1, 2]).ToString());
    }
}
