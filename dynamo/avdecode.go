package dynamo

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// unmarshalItem decodes an item into the struct out points to exactly as
// attributevalue.UnmarshalMap does, faster: the request paths decode
// dozens of items per request (a list of 50 profiles), and UnmarshalMap
// works out each field's type by reflection on every value (the time
// conversion check alone on every string), which the list's profile
// showed as a third of the server's own time. Here each item type is
// looked at once, into a plan of decoders per attribute name.
//
// Only what Rapport's items use takes the fast way: structs of strings,
// numbers, booleans, times, pointers, lists, string-keyed maps and nested
// structs, named by dynamodbav tags whose options affect encoding only
// (omitempty). A type with anything else (embedded structs, interfaces,
// custom unmarshalers, tag options such as unixtime) is decoded by
// UnmarshalMap itself, and so is
// a value of another shape than its field expects (a number set, a time
// as a number): whatever the fast way does not know, attributevalue
// decodes. Any error makes UnmarshalMap decode the whole item again, so
// errors are UnmarshalMap's own. avdecode_test.go checks every item type
// against UnmarshalMap, fuzzed.
func unmarshalItem(m map[string]types.AttributeValue, out any) error {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return attributevalue.UnmarshalMap(m, out)
	}
	p := planFor(v.Elem().Type())
	if p == nil {
		return attributevalue.UnmarshalMap(m, out)
	}
	if err := p.decode(m, v.Elem()); err != nil {
		v.Elem().SetZero()
		return attributevalue.UnmarshalMap(m, out)
	}
	return nil
}

// structPlan decodes one struct type: its fields by attribute name.
type structPlan struct {
	byName map[string]*fieldPlan
	fields []*fieldPlan // in declaration order, for names matched regardless of case
}

type fieldPlan struct {
	name   string
	index  int
	decode valueDecoder
}

// valueDecoder decodes av into v (settable). It returns errFallback for a
// value it does not handle, which attributevalue then decodes.
type valueDecoder func(av types.AttributeValue, v reflect.Value) error

var plans sync.Map // reflect.Type → *structPlan, or nil: not for the fast way

func planFor(t reflect.Type) *structPlan {
	if p, ok := plans.Load(t); ok {
		return p.(*structPlan)
	}
	p := newStructPlan(t, map[reflect.Type]bool{})
	plans.Store(t, p)
	return p
}

var (
	timeType            = reflect.TypeFor[time.Time]()
	unmarshalerType     = reflect.TypeFor[attributevalue.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// newStructPlan plans t, or returns nil when t is not for the fast way.
// seen breaks recursion through types that contain themselves.
func newStructPlan(t reflect.Type, seen map[reflect.Type]bool) *structPlan {
	if seen[t] || implementsUnmarshaler(t) {
		return nil
	}
	seen[t] = true
	defer delete(seen, t)
	p := &structPlan{byName: map[string]*fieldPlan{}}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return nil // embedded fields are promoted by rules of their own
		}
		if !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(sf.Tag.Get("dynamodbav"), ",")
		if name == "-" {
			continue
		}
		for o := range strings.SplitSeq(opts, ",") {
			switch o {
			case "", "omitempty", "omitemptyelem", "nullempty", "nullemptyelem":
			default:
				return nil // options that change decoding
			}
		}
		if name == "" {
			name = sf.Name
		}
		if _, dup := p.byName[name]; dup {
			return nil
		}
		dec := decoderFor(sf.Type, seen)
		if dec == nil {
			return nil
		}
		f := &fieldPlan{name: name, index: i, decode: dec}
		p.byName[name] = f
		p.fields = append(p.fields, f)
	}
	return p
}

func implementsUnmarshaler(t reflect.Type) bool {
	return t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType)
}

// decode decodes an item's attributes into the struct v; attributes
// without a field are ignored, fields without an attribute left alone.
// Fields are looked up by name in the item (cheaper than walking the
// item's map); attributes named otherwise than any field, which are
// rare, are then matched regardless of case.
func (p *structPlan) decode(m map[string]types.AttributeValue, v reflect.Value) error {
	matched := 0
	for _, f := range p.fields {
		av, ok := m[f.name]
		if !ok {
			continue
		}
		matched++
		if err := f.decode(av, v.Field(f.index)); err != nil {
			return err
		}
	}
	if matched == len(m) {
		return nil
	}
	for name, av := range m {
		if _, ok := p.byName[name]; ok {
			continue
		}
		if f := p.foldedField(name); f != nil {
			if err := f.decode(av, v.Field(f.index)); err != nil {
				return err
			}
		}
	}
	return nil
}

// foldedField is the first field whose name matches regardless of case,
// as attributevalue falls back to.
func (p *structPlan) foldedField(name string) *fieldPlan {
	for _, f := range p.fields {
		if strings.EqualFold(f.name, name) {
			return f
		}
	}
	return nil
}

// errFallback stops the fast way; unmarshalItem then decodes the item with
// attributevalue.
var errFallback = fmt.Errorf("dynamo: value left to attributevalue")

// decoderFor returns the decoder of a value of type t, or nil when t is
// not for the fast way. NULL sets the zero value everywhere, as
// attributevalue does.
func decoderFor(t reflect.Type, seen map[reflect.Type]bool) valueDecoder {
	if implementsUnmarshaler(t) {
		return nil
	}
	withNull := func(d valueDecoder) valueDecoder {
		return func(av types.AttributeValue, v reflect.Value) error {
			if _, ok := av.(*types.AttributeValueMemberNULL); ok {
				v.SetZero()
				return nil
			}
			return d(av, v)
		}
	}
	switch {
	case t == timeType:
		return withNull(func(av types.AttributeValue, v reflect.Value) error {
			s, ok := av.(*types.AttributeValueMemberS)
			if !ok {
				return errFallback
			}
			tm, err := time.Parse(time.RFC3339, s.Value)
			if err != nil {
				return err
			}
			*v.Addr().Interface().(*time.Time) = tm // as v.Set, without boxing tm
			return nil
		})
	case t.ConvertibleTo(timeType):
		return nil // a named time type: left to attributevalue
	}
	switch t.Kind() {
	case reflect.String:
		return withNull(func(av types.AttributeValue, v reflect.Value) error {
			s, ok := av.(*types.AttributeValueMemberS)
			if !ok {
				return errFallback
			}
			v.SetString(s.Value)
			return nil
		})
	case reflect.Bool:
		return withNull(func(av types.AttributeValue, v reflect.Value) error {
			b, ok := av.(*types.AttributeValueMemberBOOL)
			if !ok {
				return errFallback
			}
			v.SetBool(b.Value)
			return nil
		})
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return withNull(func(av types.AttributeValue, v reflect.Value) error {
			n, ok := av.(*types.AttributeValueMemberN)
			if !ok {
				return errFallback
			}
			i, err := strconv.ParseInt(n.Value, 10, 64)
			if err != nil || v.OverflowInt(i) {
				return errFallback
			}
			v.SetInt(i)
			return nil
		})
	case reflect.Float32, reflect.Float64:
		return withNull(func(av types.AttributeValue, v reflect.Value) error {
			n, ok := av.(*types.AttributeValueMemberN)
			if !ok {
				return errFallback
			}
			f, err := strconv.ParseFloat(n.Value, 64)
			if err != nil || v.OverflowFloat(f) {
				return errFallback
			}
			v.SetFloat(f)
			return nil
		})
	case reflect.Pointer:
		elem := decoderFor(t.Elem(), seen)
		if elem == nil || t.Elem().Kind() == reflect.Pointer {
			return nil
		}
		return withNull(func(av types.AttributeValue, v reflect.Value) error {
			if v.IsNil() {
				v.Set(reflect.New(t.Elem()))
			}
			return elem(av, v.Elem())
		})
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil // binary
		}
		elem := decoderFor(t.Elem(), seen)
		if elem == nil {
			return nil
		}
		return withNull(func(av types.AttributeValue, v reflect.Value) error {
			l, ok := av.(*types.AttributeValueMemberL)
			if !ok {
				return errFallback
			}
			// A fresh slice however many elements: a list decodes to a
			// non-nil slice, empty or not, as with attributevalue.
			s := reflect.MakeSlice(t, len(l.Value), len(l.Value))
			for i, e := range l.Value {
				if err := elem(e, s.Index(i)); err != nil {
					return err
				}
			}
			v.Set(s)
			return nil
		})
	case reflect.Map:
		k := t.Key()
		if k.Kind() != reflect.String || k.Implements(textUnmarshalerType) || reflect.PointerTo(k).Implements(textUnmarshalerType) {
			return nil
		}
		elem := decoderFor(t.Elem(), seen)
		if elem == nil {
			return nil
		}
		return withNull(func(av types.AttributeValue, v reflect.Value) error {
			m, ok := av.(*types.AttributeValueMemberM)
			if !ok {
				return errFallback
			}
			if v.IsNil() {
				v.Set(reflect.MakeMapWithSize(t, len(m.Value)))
			}
			for name, av := range m.Value {
				e := reflect.New(t.Elem()).Elem()
				if err := elem(av, e); err != nil {
					return err
				}
				v.SetMapIndex(reflect.ValueOf(name).Convert(k), e)
			}
			return nil
		})
	case reflect.Struct:
		sp := newStructPlan(t, seen)
		if sp == nil {
			return nil
		}
		return withNull(func(av types.AttributeValue, v reflect.Value) error {
			m, ok := av.(*types.AttributeValueMemberM)
			if !ok {
				return errFallback
			}
			return sp.decode(m.Value, v)
		})
	}
	return nil
}
