package dynamo

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// itemTypes are the types the store decodes items into. unmarshalItem
// must decode each exactly as attributevalue.UnmarshalMap does.
var itemTypes = []any{
	customerItem{}, contactItem{}, interactionItem{}, gradeChangeItem{}, evaluationItem{},
	templateItem{}, stageChangeItem{}, caseItem{}, caseTransitionItem{}, indicatorItem{},
	auditItem{}, auditRecord{}, mergeItem{}, policyItem{}, gradeLevelItem{},
	partnerOrgItem{}, apiKeyItem{}, partnerShareItem{}, claimItem{},
	activityItem{}, summaryItem{}, contractItem{},
	// Shapes beyond today's items: what the fast way leaves to
	// attributevalue, and what it takes itself.
	oddItem{}, nestedItem{}, embeddingItem{}, clashItem{},
}

// embeddingItem promotes the fields of embedded structs, two levels deep,
// as customerItem (legacyActivity) and activityItem (derivedFields) do.
type embeddingItem struct {
	PK string `dynamodbav:"pk"`
	embeddedOuter
}

type embeddedOuter struct {
	embeddedLeaf
	Count *int `dynamodbav:"count,omitempty"`
}

type embeddedLeaf struct {
	Name  string     `dynamodbav:"name"`
	At    *time.Time `dynamodbav:"at,omitempty"`
	inner string
}

// clashItem has a name promoted from an embedded struct and its own: Go's
// rules decide which wins, and attributevalue decodes it.
type clashItem struct {
	Name string `dynamodbav:"name"`
	embeddedLeaf
}

type oddItem struct {
	Counts   map[int]string    `dynamodbav:"counts"`           // maps not keyed by strings: left to attributevalue
	Any      any               `dynamodbav:"any"`              // interfaces too
	At       time.Time         `dynamodbav:"at,unixtime"`      // an option that changes decoding
	Blob     []byte            `dynamodbav:"blob"`             // binary
	Small    int8              `dynamodbav:"small"`            // overflow is attributevalue's error
	U        uint              `dynamodbav:"u"`                // unsigned
	Skipped  string            `dynamodbav:"-"`                // never decoded
	Renamed  string            `dynamodbav:"-,omitempty"`      // "-" whatever the options
	Untagged string            ``                              // by field name
	Labels   map[string]string `dynamodbav:"labels,omitempty"` //
}

type nestedItem struct {
	PK       string                  `dynamodbav:"pk"`
	Untagged string                  // by field name, and matched regardless of case
	Flag     bool                    `dynamodbav:"flag"`
	F32      float32                 `dynamodbav:"f32"`
	Ptr      *nestedLeaf             `dynamodbav:"ptr,omitempty"`
	Leaves   []nestedLeaf            `dynamodbav:"leaves"`
	PLeaves  []*nestedLeaf           `dynamodbav:"pleaves"`
	Times    []time.Time             `dynamodbav:"times"`
	PTime    *time.Time              `dynamodbav:"ptime"`
	Strings  []string                `dynamodbav:"strings"`
	Matrix   [][]int                 `dynamodbav:"matrix"`
	Metrics  map[string]float64      `dynamodbav:"metrics"`
	Named    map[nameKey]*nestedLeaf `dynamodbav:"named"`
	hidden   string
}

type nameKey string

type nestedLeaf struct {
	Name  string   `dynamodbav:"name"`
	Score *float64 `dynamodbav:"score,omitempty"`
	N     int64    `dynamodbav:"n"`
}

// filler makes random values of any type an item holds.
type filler struct{ r *rand.Rand }

func (f filler) fill(v reflect.Value, depth int) {
	if v.Type() == reflect.TypeFor[time.Time]() {
		t := time.Unix(f.r.Int64N(4e9), f.r.Int64N(1e9))
		if f.r.IntN(3) == 0 {
			t = t.In(time.FixedZone("", (f.r.IntN(25)-12)*3600))
		} else {
			t = t.UTC()
		}
		v.Set(reflect.ValueOf(t))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(f.str())
	case reflect.Bool:
		v.SetBool(f.r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := f.r.Int64N(1000) - 500
		if f.r.IntN(4) == 0 && v.Type().Bits() == 64 {
			n = f.r.Int64()
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(f.r.Uint64N(1000))
	case reflect.Float32, reflect.Float64:
		x := float64(f.r.IntN(100000)) / 100
		if f.r.IntN(4) == 0 {
			x = f.r.NormFloat64() * 1e6
		}
		v.SetFloat(x)
	case reflect.Pointer:
		if f.r.IntN(3) > 0 && depth < 4 {
			v.Set(reflect.New(v.Type().Elem()))
			f.fill(v.Elem(), depth+1)
		}
	case reflect.Slice:
		switch n := f.r.IntN(5); {
		case n == 0 || depth >= 4:
		case n == 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			s := reflect.MakeSlice(v.Type(), n-1, n-1)
			for i := range n - 1 {
				f.fill(s.Index(i), depth+1)
			}
			v.Set(s)
		}
	case reflect.Map:
		if f.r.IntN(2) == 0 {
			m := reflect.MakeMap(v.Type())
			for range f.r.IntN(3) {
				k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
				f.fill(k, depth+1)
				if k.Kind() == reflect.String {
					k.SetString("k" + k.String()) // a key cannot be empty
				}
				f.fill(e, depth+1)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if sf := v.Type().Field(i); (sf.IsExported() || sf.Anonymous) && f.r.IntN(6) > 0 {
				f.fill(v.Field(i), depth+1)
			}
		}
	case reflect.Interface:
		if f.r.IntN(2) == 0 {
			v.Set(reflect.ValueOf(f.str()))
		}
	}
}

func (f filler) str() string {
	words := []string{"", "a", "Huaxin 华信", "sales-li", "2026-03-01T10:00:00Z", "x\"y", "\u2028", "🚀"}
	return words[f.r.IntN(len(words))] + strings.Repeat("z", f.r.IntN(3))
}

// spoil changes an item's attributes as data written by other code or by
// hand might be: NULLs, other types, other cases, unknown names.
func (f filler) spoil(m map[string]types.AttributeValue) {
	for k, av := range m {
		switch f.r.IntN(12) {
		case 0:
			m[k] = &types.AttributeValueMemberNULL{Value: true}
		case 1:
			m[k] = &types.AttributeValueMemberN{Value: fmt.Sprint(f.r.IntN(300) - 100)}
		case 2:
			m[k] = &types.AttributeValueMemberS{Value: f.str()}
		case 3:
			delete(m, k)
			m[strings.ToUpper(k)] = av
		case 4:
			if l, ok := av.(*types.AttributeValueMemberL); ok {
				ss := &types.AttributeValueMemberSS{}
				for _, e := range l.Value {
					if s, ok := e.(*types.AttributeValueMemberS); ok {
						ss.Value = append(ss.Value, s.Value)
					}
				}
				m[k] = ss
			}
		case 5:
			m[k] = &types.AttributeValueMemberL{Value: []types.AttributeValue{av, &types.AttributeValueMemberNULL{Value: true}}}
		case 6:
			m[k] = &types.AttributeValueMemberN{Value: "99999999999999999999"}
		}
	}
	if f.r.IntN(3) == 0 {
		m["unknownAttribute"] = &types.AttributeValueMemberS{Value: "x"}
	}
}

// checkSame decodes m into a fresh value of typ both ways and reports a
// difference. Where an item has several faults, which one attributevalue
// names depends on the map's order: sameError compares the errors' text
// only for items with one.
func checkSame(t *testing.T, typ reflect.Type, m map[string]types.AttributeValue, sameError bool) {
	t.Helper()
	fast, slow := reflect.New(typ), reflect.New(typ)
	errFast := unmarshalItem(m, fast.Interface())
	errSlow := attributevalue.UnmarshalMap(m, slow.Interface())
	if (errFast == nil) != (errSlow == nil) || (sameError && errFast != nil && errFast.Error() != errSlow.Error()) {
		t.Fatalf("%v: error %v, attributevalue's %v\nitem %#v", typ, errFast, errSlow, m)
	}
	if errSlow == nil && !reflect.DeepEqual(fast.Elem().Interface(), slow.Elem().Interface()) {
		t.Fatalf("%v: decoded\n%#v\nattributevalue decoded\n%#v\nfrom %#v", typ, fast.Elem().Interface(), slow.Elem().Interface(), m)
	}
}

func checkItems(t *testing.T, r *rand.Rand, spoiled bool) {
	f := filler{r}
	for _, proto := range itemTypes {
		typ := reflect.TypeOf(proto)
		v := reflect.New(typ).Elem()
		f.fill(v, 0)
		m, err := attributevalue.MarshalMap(v.Interface())
		if err != nil {
			t.Fatalf("%v: %v", typ, err)
		}
		if spoiled {
			f.spoil(m)
		}
		checkSame(t, typ, m, false)
	}
}

func TestUnmarshalItemDecodesAsAttributeValue(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 12))
	for range 300 {
		checkItems(t, r, false)
		checkItems(t, r, true)
	}
}

func TestUnmarshalItemTakesTheFastWayForTheStoresItems(t *testing.T) {
	for _, proto := range itemTypes {
		typ := reflect.TypeOf(proto)
		slow := typ == reflect.TypeFor[oddItem]() || typ == reflect.TypeFor[clashItem]()
		if planFor(typ) == nil && !slow {
			t.Errorf("%v is decoded by attributevalue, not the fast way", typ)
		}
	}
	if planFor(reflect.TypeFor[oddItem]()) != nil {
		t.Error("a type with maps, interfaces and unixtime took the fast way")
	}
	if planFor(reflect.TypeFor[clashItem]()) != nil {
		t.Error("a type whose promoted name clashes with its own took the fast way")
	}
}

func TestUnmarshalItemEdgeCases(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	null := &types.AttributeValueMemberNULL{Value: true}
	l := func(vs ...types.AttributeValue) types.AttributeValue { return &types.AttributeValueMemberL{Value: vs} }
	m := func(kv ...any) map[string]types.AttributeValue {
		out := map[string]types.AttributeValue{}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1].(types.AttributeValue)
		}
		return out
	}
	tests := []struct {
		name string
		item map[string]types.AttributeValue
	}{
		{"Empty", m()},
		{"Nil", nil},
		{"EmptyListIsAnEmptySlice", m("leaves", l(), "strings", l(), "pleaves", l())},
		{"NullEverywhere", m("pk", null, "ptr", null, "leaves", null, "ptime", null, "flag", null, "f32", null)},
		{"NullInLists", m("pleaves", l(null, &types.AttributeValueMemberM{Value: m("name", s("a"))}), "strings", l(s("a"), null))},
		{"CaseFolded", m("PK", s("x"), "untagged", s("y"), "FLAG", &types.AttributeValueMemberBOOL{Value: true})},
		{"TimeAsNumber", m("ptime", n("1700000000"))},
		{"BadTime", m("ptime", s("yesterday"))},
		{"TimeWithOffsetAndNanos", m("times", l(s("2026-03-01T10:00:00.123456789+08:00"), s("2026-03-01T10:00:00Z")))},
		{"StringSetForStrings", m("strings", &types.AttributeValueMemberSS{Value: []string{"a", "b"}})},
		{"NumberForString", m("pk", n("12"))},
		{"StringForNumber", m("f32", s("1.5"))},
		{"Float32Overflow", m("f32", n("1e300"))},
		{"NotANumber", m("ptr", &types.AttributeValueMemberM{Value: m("n", n("1.5"))})},
		{"Int64Limits", m("ptr", &types.AttributeValueMemberM{Value: m("n", n(fmt.Sprint(math.MaxInt64)))})},
		{"MapForList", m("leaves", &types.AttributeValueMemberM{Value: m()})},
		{"Matrix", m("matrix", l(l(n("1"), n("2")), l(), null))},
		{"Hidden", m("hidden", s("x"))},
		{"Maps", m("metrics", &types.AttributeValueMemberM{Value: m("a", n("1.5"), "b", null)}, "named", &types.AttributeValueMemberM{Value: m("x", null)})},
		{"EmptyMap", m("metrics", &types.AttributeValueMemberM{Value: m()})},
		{"BadMapValue", m("metrics", &types.AttributeValueMemberM{Value: m("a", s("x"))})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkSame(t, reflect.TypeFor[nestedItem](), tt.item, true) })
	}
	var odd oddItem
	item := m("small", n("300"), "u", n("7"), "at", n("1700000000"), "Untagged", s("u"), "Skipped", s("no"))
	checkSame(t, reflect.TypeFor[oddItem](), item, true)
	if err := unmarshalItem(item, &odd); err == nil {
		t.Error("an int8 overflow decoded without error")
	}
}

// FuzzUnmarshalItem decodes random, spoiled items of every type both
// ways.
func FuzzUnmarshalItem(f *testing.F) {
	for _, seed := range []uint64{1, 2, 3, 2026} {
		f.Add(binary.LittleEndian.AppendUint64(nil, seed), true)
	}
	f.Fuzz(func(t *testing.T, seed []byte, spoiled bool) {
		var s [16]byte
		copy(s[:], seed)
		r := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(s[:8]), binary.LittleEndian.Uint64(s[8:])))
		checkItems(t, r, spoiled)
	})
}

func BenchmarkUnmarshalCustomerItem(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 7))
	var it customerItem
	filler{r}.fill(reflect.ValueOf(&it).Elem(), 0)
	m, err := attributevalue.MarshalMap(it)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("attributevalue", func(b *testing.B) {
		for b.Loop() {
			var out customerItem
			if err := attributevalue.UnmarshalMap(m, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unmarshalItem", func(b *testing.B) {
		for b.Loop() {
			var out customerItem
			if err := unmarshalItem(m, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}
