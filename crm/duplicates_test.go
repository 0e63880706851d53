package crm

import "testing"

func TestNameSimilarity(t *testing.T) {
	tests := []struct {
		a, b     string
		min, max float64
	}{
		{"Acme Power Co., Ltd.", "ACME power", 1, 1},
		{"Acme Power", "Power Acme Group", 1, 1},
		{"Huaxin Telecom", "Huaxn Telecom", 0.9, 0.99},
		{"Huaxin Telecom", "Jinlong Steel", 0, 0.4},
		{"北京华信通信有限公司", "北京华信通信", 1, 1},
		{"", "Acme", 0, 0},
	}
	for _, tt := range tests {
		if got := NameSimilarity(tt.a, tt.b); got < tt.min || got > tt.max {
			t.Errorf("NameSimilarity(%q, %q) = %v, want [%v, %v]", tt.a, tt.b, got, tt.min, tt.max)
		}
	}
	if NameBucket("  ACME power") != "ac" || NameBucket("北京华信") != "北京" {
		t.Errorf("buckets: %q %q", NameBucket("  ACME power"), NameBucket("北京华信"))
	}
}
