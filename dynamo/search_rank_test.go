package dynamo

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/search"
)

// A window ranks customers by their best key, then by their name when a
// key of their name found them, and by the value found (a contact's name)
// when only a contact's key did, whose item carries no name.
func TestRankWindowOrdersContactMatchesByTheValueFound(t *testing.T) {
	q, err := search.ParseQuery("wang")
	if err != nil {
		t.Fatal(err)
	}
	keys := []searchKeyItem{
		{CustomerID: "c-zed", Kind: "CONTACT", Value: "wang an"},
		{CustomerID: "c-amy", Kind: "CONTACT", Value: "wang wei"},
		{CustomerID: "c-amy", Kind: "CONTACT", Value: "wangwei"},
		{CustomerID: "c-bob", Kind: "CONTACT", Value: "wang bo"},
		{CustomerID: "c-wang", Kind: "NAME", Value: "wang trading", Name: "wang trading"},
		{CustomerID: "c-wang", Kind: "CONTACT", Value: "wang li"},
		{CustomerID: "c-wangx", Kind: "NAME", Value: "wangxin", Name: "wangxin"},
	}
	var raw []map[string]types.AttributeValue
	for _, k := range keys {
		item, err := attributevalue.MarshalMap(k)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, item)
	}
	ranked, err := rankWindow(q, raw)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range ranked {
		got = append(got, h.id)
	}
	// By prefix: the two names, by name; by contact: wangan, wangbo, wangwei.
	if want := []string{"c-wang", "c-wangx", "c-zed", "c-bob", "c-amy"}; !slices.Equal(got, want) {
		t.Errorf("ranked %v, want %v", got, want)
	}
}
