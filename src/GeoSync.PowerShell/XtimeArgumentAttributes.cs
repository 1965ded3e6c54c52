using System.Globalization;
using System.Management.Automation;

namespace GeoSync.PowerShell;

/// <summary>
/// Turns an -Xtime argument into an exact decimal. PowerShell parses 1700000000.000123 as a double, and both its
/// double-to-decimal and double-to-string conversions keep only 15 significant digits (1700000000.00012); the double's
/// shortest round-trip text is exact for every xtime.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
internal sealed class XtimeTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var text = PSObject.AsPSObject(inputData).BaseObject switch
        {
            decimal => null,
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            float f => f.ToString("R", CultureInfo.InvariantCulture),
            string s => s,
            _ => null,
        };
        if (text is null) { return inputData; }
        return decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : inputData;
    }
}

/// <summary>Accepts a decimal xtime: 0 to 4294967295.999999 with at most six fractional digits (microseconds).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
internal sealed class ValidateXtimeAttribute : ValidateArgumentsAttribute
{
    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        var value = LanguagePrimitives.ConvertTo<decimal>(arguments);
        if (GlusterXtime.FromDecimal(value) is null)
        {
            throw new ValidationMetadataException(
                $"{value} is not an xtime: give seconds.microseconds between 0 and 4294967295.999999 with at most six fractional digits.");
        }
    }
}
