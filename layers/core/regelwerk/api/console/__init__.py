"""The console: server-rendered pages for shop owners and their staff under /console/, signed in through Cognito,
each page over the same domain functions the admin API uses. May import every stage below api, and api's own
modules (records, customers, identity)."""
