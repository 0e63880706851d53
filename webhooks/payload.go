package webhooks

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/events"
)

// Message is a delivery's body: the domain event's CloudEvents envelope
// (docs/events.md), with the receiving organization and, for customer
// events, the customer as the organization reads it through the partner
// API (crm.PartnerView: masked by its policy).
type Message struct {
	SpecVersion     string      `json:"specversion"`
	ID              string      `json:"id"`
	Source          string      `json:"source"`
	Type            events.Type `json:"type"`
	Subject         string      `json:"subject"`
	Time            time.Time   `json:"time"`
	DataContentType string      `json:"datacontenttype"`
	Sequence        string      `json:"sequence"`
	Data            MessageData `json:"data"`
}

// MessageData is the event's data, the partner and the customer.
type MessageData struct {
	events.Data
	// PartnerID is the receiving organization.
	PartnerID string `json:"partnerId"`
	// Customer is the customer after the change, masked; set on customer
	// events and on rapport.customer.shared, never on unshared.
	Customer *CustomerView `json:"customer,omitempty"`
}

// CustomerView is a customer's profile in a message, with the partner
// API's field names.
type CustomerView struct {
	ID         string        `json:"id"`
	Kind       string        `json:"kind"`
	Name       string        `json:"name"`
	Phones     []string      `json:"phones"`
	Emails     []string      `json:"emails"`
	Addresses  []AddressView `json:"addresses"`
	Industry   string        `json:"industry,omitempty"`
	Region     string        `json:"region,omitempty"`
	Tags       []string      `json:"tags"`
	Attributes []KeyValue    `json:"attributes"`
	Stage      string        `json:"stage"`
	Status     string        `json:"status"`
	Grade      string        `json:"grade,omitempty"`
	OwnerID    string        `json:"ownerId,omitempty"`
	Team       string        `json:"team,omitempty"`
	Version    int           `json:"version"`
	UpdatedAt  time.Time     `json:"updatedAt"`
}

// AddressView is an address in a message.
type AddressView struct {
	Label      string `json:"label,omitempty"`
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	Country    string `json:"country,omitempty"`
}

// KeyValue is an entry of the free-form archive.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// customerView is the organization's view of c.
func customerView(org *crm.PartnerOrg, c *crm.Customer) *CustomerView {
	v := crm.PartnerView(org, c)
	out := &CustomerView{ID: v.ID, Kind: string(v.Kind), Name: v.Name, Phones: nonNil(v.Phones), Emails: nonNil(v.Emails),
		Addresses: []AddressView{}, Industry: v.Industry, Region: v.Region, Tags: nonNil(v.Tags), Attributes: []KeyValue{},
		Stage: string(v.Stage), Status: string(v.Status), Grade: v.Grade.Level, OwnerID: v.OwnerID, Team: v.Team,
		Version: v.Version, UpdatedAt: v.UpdatedAt}
	for _, a := range v.Addresses {
		out.Addresses = append(out.Addresses, AddressView(a))
	}
	for _, a := range v.Attributes {
		out.Attributes = append(out.Attributes, KeyValue(a))
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// message is ev as sent to org. Which other organizations a customer is
// shared with is none of the receiver's business: "partners" leaves the
// changed fields.
func message(ev events.Event, org *crm.PartnerOrg, c *crm.Customer) ([]byte, error) {
	d := ev.Data
	d.ChangedFields = slices.DeleteFunc(slices.Clone(d.ChangedFields), func(f string) bool { return f == "partners" })
	if len(d.ChangedFields) == 0 {
		d.ChangedFields = nil
	}
	m := Message{SpecVersion: ev.SpecVersion, ID: ev.ID, Source: ev.Source, Type: ev.Type, Subject: ev.Subject,
		Time: ev.Time, DataContentType: ev.DataContentType, Sequence: ev.Sequence,
		Data: MessageData{Data: d, PartnerID: org.ID}}
	if c != nil {
		m.Data.Customer = customerView(org, c)
	}
	return json.Marshal(m)
}
