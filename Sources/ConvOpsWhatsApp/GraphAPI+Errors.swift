/// What an operator can do about a message Meta would not deliver, by Meta's code (the
/// Cloud API's error-code reference; see ../shared/fixtures/whatsapp/PROTOCOL-NOTES.md).
public enum WhatsAppErrorAdvice {
    public static func forCode(_ code: Int) -> String {
        switch code {
        case 131026:
            "the number is not on WhatsApp, or its WhatsApp is too old or has not accepted the current terms: check the number in whatsapp.people and ask the person to open and update WhatsApp"
        case 131047:
            "the person has not written to the bot for 24 hours, and a reply or a plan cannot go as a template: ask them to write anything to the bot, then ask again"
        case 131030:
            "the app is in test mode and the number is not one of its test recipients: add it in the App Dashboard (WhatsApp → API Setup) or use a production number"
        case 131049:
            "Meta held the template back to keep engagement healthy: it sends this person no more templates for a while; wait a day, or have them write to the bot to open the 24-hour window"
        case 130472:
            "the number is in one of Meta's experiments that holds templates back: nothing to fix here; reach the person another way"
        case 131051:
            "Meta does not support this kind of message: please report it to ConvOps"
        case 132000, 132001, 132005, 132007, 132012, 132015, 132016:
            "the template is missing, paused, not approved in this language, or its parameters do not match: check whatsapp.templates and the template's status in WhatsApp Manager"
        case 100:
            "Meta refused a parameter of the message: please report it to ConvOps with the time"
        case 0:
            "the message was never sent: it did not fit WhatsApp's limits or Meta gave no reason; please report it to ConvOps with the time"
        default:
            "see Meta's error-code reference for #\(code); the message was not delivered and will not be retried"
        }
    }
}
