package crm

import (
	"testing"

	"github.com/rapportcrm/rapport/search"
)

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
		{"北京华信通信 有限公司", "北京华信通信有限公司", 1, 1},
		{"Acme GmbH", "ACME", 1, 1},
		{"", "Acme", 0, 0},
	}
	for _, tt := range tests {
		if got := NameSimilarity(tt.a, tt.b); got < tt.min || got > tt.max {
			t.Errorf("NameSimilarity(%q, %q) = %v, want [%v, %v]", tt.a, tt.b, got, tt.min, tt.max)
		}
	}
}

func TestDuplicateScoreComparesCoreNames(t *testing.T) {
	tests := []struct {
		name  string
		other NameEntry // as the search index lists it
		want  float64
	}{
		// The same words: 1, which an import takes for the same organization.
		{"北京华信科技有限公司", NameEntry{Name: "北京华信科技有限公司", Core: "华信科技"}, 1},
		{"ACME power", NameEntry{Name: "acme power co ltd", Core: "acmepower"}, 1},
		// The same core, places and legal forms aside: candidates, not surely one.
		{"北京华信科技有限公司", NameEntry{Name: "华信科技北京有限公司", Core: "华信科技"}, sameCore},
		{"华信科技(北京)有限公司", NameEntry{Name: "华信科技有限公司", Core: "华信科技"}, sameCore},
		{"华信科技有限公司", NameEntry{Name: "北京华信科技有限公司", Core: "华信科技"}, sameCore},
		{"华信科技", NameEntry{Name: "上海华信科技有限公司", Core: "华信科技"}, sameCore},
		// A name that is its own core has no core key.
		{"Acme Power Ltd", NameEntry{Name: "acme power"}, 1},
		{"北京华信科技有限公司", NameEntry{Name: "华信科技"}, sameCore},
	}
	for _, tt := range tests {
		_, core, err := search.DuplicateLookup(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if got := DuplicateScore(tt.name, core, tt.other); got != tt.want {
			t.Errorf("DuplicateScore(%q, %+v) = %v, want %v", tt.name, tt.other, got, tt.want)
		}
	}
	// Near names and cores: candidates below the same core.
	near := []struct {
		name  string
		other NameEntry
	}{
		{"Acme Power", NameEntry{Name: "acme powr"}},
		{"华信科技", NameEntry{Name: "华信科技发展有限公司", Core: "华信科技发展"}},
		{"华信通信有限公司", NameEntry{Name: "华信科技有限公司", Core: "华信科技"}},
	}
	for _, tt := range near {
		_, core, _ := search.DuplicateLookup(tt.name)
		if got := DuplicateScore(tt.name, core, tt.other); got < duplicateThreshold || got >= sameCore {
			t.Errorf("DuplicateScore(%q, %+v) = %v, want a candidate below %v", tt.name, tt.other, got, sameCore)
		}
	}
	_, core, _ := search.DuplicateLookup("华信科技")
	if got := DuplicateScore("华信科技", core, NameEntry{Name: "金龙钢铁有限公司", Core: "金龙钢铁"}); got >= duplicateThreshold {
		t.Errorf("an unrelated name scores %v", got)
	}
}
