package dynamo

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A reader of DynamoDB's JSON responses to reads (Query, GetItem,
// BatchGetItem), for fastreads.go. The SDK decodes a response into
// interface{} values and then walks them into attribute values: for the
// customer 360's Query (15 items) that is about a quarter of a millisecond
// of CPU on a 2-core build machine (BenchmarkReadQueryOutput). This reads
// the bytes straight into attribute values.
//
// It is exact or it declines: it accepts only what it reads as the SDK
// would, the same output to the last nil-or-empty slice, and says no
// (ok false) to anything else (a key it does not expect, a JSON null,
// consumed capacity split by index, a count that is not an integer, a
// string encoding/json would not take, malformed JSON), so that the SDK's
// deserializer reads that response instead.
// TestWireDecodersAgreeWithTheSDK, FuzzWireDecoders and
// TestFastReadsReadsDynamoDBLocalAsTheSDKDoes hold it to that.
type wireReader struct {
	b     []byte
	i     int
	depth int // of the attribute value being read
}

// maxWireDepth bounds the nesting of attribute values the reader takes.
// DynamoDB nests at most 32 levels; encoding/json stops at 10,000, and a
// recursive reader without a bound could exhaust its goroutine's stack on
// a hostile body.
const maxWireDepth = 64

func (r *wireReader) space() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// next skips white space and reports whether the next byte is c, taking
// it if so.
func (r *wireReader) next(c byte) bool {
	r.space()
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	return false
}

// str reads a JSON string. One without escapes, control characters or
// invalid UTF-8 is copied as it stands, which is what encoding/json makes
// of it; any other is left to encoding/json itself.
func (r *wireReader) str() (string, bool) {
	if !r.next('"') {
		return "", false
	}
	start, ascii := r.i, true
	for j := start; j < len(r.b); j++ {
		switch c := r.b[j]; {
		case c == '"':
			seg := r.b[start:j]
			if !ascii && !utf8.Valid(seg) {
				return r.slowStr(start - 1)
			}
			r.i = j + 1
			return string(seg), true
		case c == '\\':
			return r.slowStr(start - 1)
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// slowStr reads the string opening at from with encoding/json.
func (r *wireReader) slowStr(from int) (string, bool) {
	j := from + 1
	for j < len(r.b) && r.b[j] != '"' {
		if r.b[j] == '\\' {
			j++
		}
		j++
	}
	if j >= len(r.b) {
		return "", false
	}
	var s string
	if json.Unmarshal(r.b[from:j+1], &s) != nil {
		return "", false
	}
	r.i = j + 1
	return s, true
}

// object reads a JSON object, calling field for each key with the reader
// at its value.
func (r *wireReader) object(field func(key string) bool) bool {
	if !r.next('{') {
		return false
	}
	if r.next('}') {
		return true
	}
	for {
		key, ok := r.str()
		if !ok || !r.next(':') || !field(key) {
			return false
		}
		if r.next('}') {
			return true
		}
		if !r.next(',') {
			return false
		}
	}
}

// array reads a JSON array, calling elem with the reader at each element.
func (r *wireReader) array(elem func() bool) bool {
	if !r.next('[') {
		return false
	}
	if r.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if r.next(']') {
			return true
		}
		if !r.next(',') {
			return false
		}
	}
}

// boolean reads true or false.
func (r *wireReader) boolean() (bool, bool) {
	r.space()
	rest := r.b[r.i:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		r.i += 4
		return true, r.literalEnds()
	case len(rest) >= 5 && string(rest[:5]) == "false":
		r.i += 5
		return false, r.literalEnds()
	}
	return false, false
}

// literalEnds reports whether a literal just read is not run on into
// another token ("truex" is not JSON).
func (r *wireReader) literalEnds() bool {
	if r.i >= len(r.b) {
		return true
	}
	switch r.b[r.i] {
	case ' ', '\t', '\n', '\r', ',', '}', ']':
		return true
	}
	return false
}

// numberLiteral reads a JSON number as it stands.
func (r *wireReader) numberLiteral() (string, bool) {
	r.space()
	b, j := r.b, r.i
	digits := func() bool {
		from := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return j > from
	}
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case !digits():
		return "", false
	}
	if j < len(b) && b[j] == '.' {
		j++
		if !digits() {
			return "", false
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if !digits() {
			return "", false
		}
	}
	lit := string(b[r.i:j])
	r.i = j
	return lit, r.literalEnds()
}

// int32 reads an integer as the SDK does: json.Number.Int64, then int32.
func (r *wireReader) int32() (int32, bool) {
	lit, ok := r.numberLiteral()
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	return int32(n), err == nil
}

// float reads a number as the SDK does: json.Number.Float64. (The SDK
// also takes "NaN" and "Infinity" as strings; this declines them.)
func (r *wireReader) float() (*float64, bool) {
	lit, ok := r.numberLiteral()
	if !ok {
		return nil, false
	}
	f, err := strconv.ParseFloat(lit, 64)
	return &f, err == nil
}

// capacity reads the consumed capacity a read reports when asked for its
// total (Metered asks on every request's calls); one split by index goes
// to the SDK.
func (r *wireReader) capacity() (*types.ConsumedCapacity, bool) {
	c := &types.ConsumedCapacity{}
	return c, r.object(func(key string) bool {
		var ok bool
		switch key {
		case "TableName":
			var s string
			s, ok = r.str()
			c.TableName = &s
		case "CapacityUnits":
			c.CapacityUnits, ok = r.float()
		case "ReadCapacityUnits":
			c.ReadCapacityUnits, ok = r.float()
		case "WriteCapacityUnits":
			c.WriteCapacityUnits, ok = r.float()
		}
		return ok
	})
}

func (r *wireReader) strings() ([]string, bool) {
	out := []string{}
	return out, r.array(func() bool {
		s, ok := r.str()
		out = append(out, s)
		return ok
	})
}

func (r *wireReader) blob() ([]byte, bool) {
	s, ok := r.str()
	if !ok {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(s)
	return b, err == nil
}

// value reads an attribute value: an object of exactly one known member.
func (r *wireReader) value() (types.AttributeValue, bool) {
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > maxWireDepth {
		return nil, false
	}
	var v types.AttributeValue
	ok := r.object(func(key string) bool {
		if v != nil {
			return false // the SDK would take one member of several, at random
		}
		switch key {
		case "S":
			s, ok := r.str()
			v = &types.AttributeValueMemberS{Value: s}
			return ok
		case "N":
			s, ok := r.str()
			v = &types.AttributeValueMemberN{Value: s}
			return ok
		case "BOOL":
			b, ok := r.boolean()
			v = &types.AttributeValueMemberBOOL{Value: b}
			return ok
		case "NULL":
			b, ok := r.boolean()
			v = &types.AttributeValueMemberNULL{Value: b}
			return ok
		case "M":
			m, ok := r.item()
			v = &types.AttributeValueMemberM{Value: m}
			return ok
		case "L":
			l := []types.AttributeValue{}
			ok := r.array(func() bool {
				e, ok := r.value()
				l = append(l, e)
				return ok
			})
			v = &types.AttributeValueMemberL{Value: l}
			return ok
		case "SS":
			ss, ok := r.strings()
			v = &types.AttributeValueMemberSS{Value: ss}
			return ok
		case "NS":
			ns, ok := r.strings()
			v = &types.AttributeValueMemberNS{Value: ns}
			return ok
		case "B":
			b, ok := r.blob()
			v = &types.AttributeValueMemberB{Value: b}
			return ok
		case "BS":
			bs := [][]byte{}
			ok := r.array(func() bool {
				b, ok := r.blob()
				bs = append(bs, b)
				return ok
			})
			v = &types.AttributeValueMemberBS{Value: bs}
			return ok
		}
		return false
	})
	return v, ok && v != nil
}

// item reads an item (or a map value): attribute names to values.
func (r *wireReader) item() (map[string]types.AttributeValue, bool) {
	m := map[string]types.AttributeValue{}
	return m, r.object(func(key string) bool {
		v, ok := r.value()
		m[key] = v
		return ok
	})
}

func (r *wireReader) items() ([]map[string]types.AttributeValue, bool) {
	out := []map[string]types.AttributeValue{}
	return out, r.array(func() bool {
		m, ok := r.item()
		out = append(out, m)
		return ok
	})
}

// The readers below take a response's first JSON value and ignore what
// follows it, as the SDK's decoder does.

// readQueryOutput reads a Query's response.
func readQueryOutput(b []byte) (*dynamodb.QueryOutput, bool) {
	r := &wireReader{b: b}
	out := &dynamodb.QueryOutput{}
	ok := r.object(func(key string) bool {
		var ok bool
		switch key {
		case "Items":
			out.Items, ok = r.items()
		case "Count":
			out.Count, ok = r.int32()
		case "ScannedCount":
			out.ScannedCount, ok = r.int32()
		case "LastEvaluatedKey":
			out.LastEvaluatedKey, ok = r.item()
		case "ConsumedCapacity":
			out.ConsumedCapacity, ok = r.capacity()
		}
		return ok
	})
	return out, ok
}

// readGetItemOutput reads a GetItem's response.
func readGetItemOutput(b []byte) (*dynamodb.GetItemOutput, bool) {
	r := &wireReader{b: b}
	out := &dynamodb.GetItemOutput{}
	ok := r.object(func(key string) bool {
		var ok bool
		switch key {
		case "Item":
			out.Item, ok = r.item()
		case "ConsumedCapacity":
			out.ConsumedCapacity, ok = r.capacity()
		}
		return ok
	})
	return out, ok
}

// readBatchGetItemOutput reads a BatchGetItem's response whose unprocessed
// keys are none (an empty object); one with keys left goes to the SDK.
func readBatchGetItemOutput(b []byte) (*dynamodb.BatchGetItemOutput, bool) {
	r := &wireReader{b: b}
	out := &dynamodb.BatchGetItemOutput{}
	ok := r.object(func(key string) bool {
		switch key {
		case "Responses":
			out.Responses = map[string][]map[string]types.AttributeValue{}
			return r.object(func(table string) bool {
				items, ok := r.items()
				out.Responses[table] = items
				return ok
			})
		case "UnprocessedKeys":
			out.UnprocessedKeys = map[string]types.KeysAndAttributes{}
			return r.object(func(string) bool { return false }) // only {}
		case "ConsumedCapacity":
			out.ConsumedCapacity = []types.ConsumedCapacity{}
			return r.array(func() bool {
				c, ok := r.capacity()
				out.ConsumedCapacity = append(out.ConsumedCapacity, *c)
				return ok
			})
		}
		return false
	})
	return out, ok
}
