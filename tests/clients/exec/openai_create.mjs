// Two agents on the official openai client without streaming, as most
// agent code calls it: chat.completions.create() and responses.create()
// wait for the whole answer. Configured by OPENAI_BASE_URL alone; nothing
// here knows about parbench. argv[2]: "chat" or "responses".
import OpenAI from 'openai'

const client = new OpenAI({ apiKey: 'ollama' })
const api = process.argv[2]

async function agent(prompt) {
  if (api === 'responses') {
    const r = await client.responses.create({ model: 'gemma3:latest', input: prompt, max_output_tokens: 40 })
    return r.output_text.length
  }
  const r = await client.chat.completions.create({
    model: 'gemma3:latest',
    messages: [{ role: 'user', content: prompt }],
    max_tokens: 40,
  })
  return r.choices[0].message.content.length
}

const sizes = await Promise.all([agent('Name three rivers.'), agent('Count to ten.')])
console.log(`openai-${api}: answers of ${sizes.join(' and ')} characters`)
