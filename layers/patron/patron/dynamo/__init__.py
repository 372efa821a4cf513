"""DynamoDB plumbing shared by the repositories: client factory, value codec, error translation."""
