package crm

// ValueTier is a customer's place in the value pyramid of seed 000: tiers
// are assigned by value-score percentile across all active customers.
type ValueTier string

const (
	TierKey      ValueTier = "KEY"      // top 1%
	TierMajor    ValueTier = "MAJOR"    // next 19%
	TierOrdinary ValueTier = "ORDINARY" // next 30%
	TierSmall    ValueTier = "SMALL"    // bottom 50%
)

// ValueTiers lists the tiers from the top of the pyramid down.
var ValueTiers = []ValueTier{TierKey, TierMajor, TierOrdinary, TierSmall}
